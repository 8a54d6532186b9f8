"""copy.deepcopy, copy.copy and pickle of Values: leaves copy (data, requires_grad, grad, label); a Value
computed by an op is refused with PyTorch's deepcopy message instead of recursing through its graph."""
import copy
import pickle

import numpy as np
import pytest

from tinygrad_lab import Value, nn


def deep_chain(n):
    leaf = Value([1.0, 2.0], requires_grad=True)
    x = leaf
    for _ in range(n):
        x = x * 1.0
    return leaf, x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_leaf_deepcopies_and_pickles_with_its_data_grad_and_label(dtype):
    a = Value(np.array([1.5, -2.0], dtype=dtype), requires_grad=True, label="a")
    (a * a).sum().backward()
    for b in (copy.deepcopy(a), pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(a, protocol=2))):
        assert type(b) is Value and b is not a
        assert b.data is not a.data and b.dtype == dtype
        np.testing.assert_array_equal(b.data, a.data)
        assert b.requires_grad and b.is_leaf and b.label == "a"
        assert b.grad is not a.grad and b.grad.data is not a.grad.data
        np.testing.assert_array_equal(b.grad.data, 2 * a.data)
        b.data[0] = 99.0                                    # the copy is independent of the original
        assert a.data[0] == dtype(1.5)
        (b * 3).sum().backward()                            # and is a working leaf
        np.testing.assert_array_equal(b.grad.data, 2 * a.data + 3)


def test_shallow_copy_of_a_leaf_shares_the_data():
    a = Value([1.0, 2.0])
    b = copy.copy(a)
    assert b is not a and b.data is a.data and not b.requires_grad and b.grad is None


def test_constants_and_non_float_leaves_copy():
    for v in (Value(3), Value([True, False]), Value([1, 2], dtype=np.int32)):
        for c in (copy.deepcopy(v), pickle.loads(pickle.dumps(v))):
            assert c.dtype == v.dtype and c.tolist() == v.tolist() and not c.requires_grad


@pytest.mark.parametrize("copier", [copy.deepcopy, copy.copy, pickle.dumps])
@pytest.mark.parametrize("depth", [1, 20_000])
def test_a_computed_value_is_refused_with_a_clear_error_not_recursion(copier, depth):
    _, out = deep_chain(depth)
    with pytest.raises(RuntimeError, match=r"Only Values created explicitly by the user \(graph leaves\) support "
                                           r".*this one was computed by 'mul'. Copy v.detach\(\)"):
        copier(out)
    detached = copier(out.detach())                         # the fix the message gives works
    if copier is pickle.dumps:
        detached = pickle.loads(detached)
    np.testing.assert_array_equal(detached.data, out.data)


def test_a_leaf_whose_grad_has_a_graph_copies_the_gradient_values():
    x = Value([2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert not x.grad.is_leaf
    c = copy.deepcopy(x)
    assert c.grad.is_leaf and not c.grad.requires_grad and c.grad.tolist() == [12.0]


def test_models_deepcopy_and_pickle_with_parameters_that_stay_parameters():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    model[0].weight.requires_grad_(False)                   # frozen stays frozen
    model(Value(np.ones((4, 2)))).sum().backward()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        for (name, p), (_, q) in zip(model.named_parameters(), clone.named_parameters(), strict=True):
            assert type(q) is nn.Parameter and q is not p and q.data is not p.data, name
            np.testing.assert_array_equal(q.data, p.data)
            assert q.requires_grad == p.requires_grad
            assert (q.grad is None) == (p.grad is None)
        np.testing.assert_array_equal(clone(Value(np.ones((4, 2)))).data, model(Value(np.ones((4, 2)))).data)


def test_deepcopy_keeps_shared_leaves_shared():
    a = Value([1.0], requires_grad=True)
    pair = copy.deepcopy([a, a])
    assert pair[0] is pair[1] and pair[0] is not a


@pytest.mark.parametrize("copier, what", [(copy.deepcopy, "the deepcopy protocol"), (copy.copy, "copy.copy and pickle"),
                                          (pickle.dumps, "copy.copy and pickle")])
def test_the_refusal_names_the_copy_that_was_asked_for(copier, what):
    out = Value([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=f"graph leaves\\) support {what}; this one was computed by 'mul'"):
        copier(out)


def test_deepcopy_keeps_a_values_data_shared_with_the_array_copied_next_to_it():
    v = Value([1.0, 2.0], requires_grad=True)
    copied, data = copy.deepcopy([v, v.data])
    assert copied.data is data and data is not v.data
    both = copy.deepcopy({"a": v, "b": v})
    assert both["a"] is both["b"]


class Tagged(Value):
    """A user's Value subclass with attributes of its own (module level, so pickle finds it)."""


def test_a_value_subclass_with_its_own_attributes_deep_copies_and_pickles():
    """A subclass without __slots__ has a __dict__ (another object layout than Value's): copies keep its class,
    its attributes and requires_grad, instead of failing with "object layout differs"."""
    import copy
    import pickle

    original = Tagged([1.0, 2.0], requires_grad=True)
    original.note = "kept"
    for copied in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        assert type(copied) is Tagged and copied.note == "kept" and copied.requires_grad
        assert copied.data.tolist() == [1.0, 2.0] and copied.data is not original.data

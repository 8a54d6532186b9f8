"""Adversarial cases for the nn modules, optimizers and schedulers: unusual inputs (empty batches, 0-d parameters),
options given with the wrong type, and refused calls, which must leave modules, optimizers and schedulers exactly as
they were. The references are written out here (shapes, PyTorch's update rules in NumPy); the PyTorch parity tests
at the end skip without torch."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_lab import Value, nn, optim
from tinygrad_lab.optim import lr_scheduler


def _state(module):
    return {key: np.array(value, copy=True) for key, value in module.state_dict().items()}


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


# ---------------------------------------------------------------------------- constructors

@pytest.mark.parametrize("make,error,match", [
    (lambda: nn.LayerNorm(True), TypeError, "normalized_shape must be a positive int"),     # 'bool' not iterable
    (lambda: nn.LayerNorm(3.0), TypeError, "normalized_shape must be a positive int"),      # 'float' not iterable
    (lambda: nn.Conv2d(2, 2, 3, stride=(1, 0)), ValueError, "stride must be >= 1"),       # only at forward
    (lambda: nn.Conv1d(2, 2, 3, dilation=-1), ValueError, "dilation must be >= 1"),
])
def test_constructors_refuse_bad_sizes_naming_them(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,x,expected", [
    (nn.Flatten(), [[[1.0, 2.0], [3.0, 4.0]]], [[1.0, 2.0, 3.0, 4.0]]),
    (nn.Unflatten(1, (2, 1)), [[1.0, 2.0]], [[[1.0], [2.0]]]),
    (nn.BatchNorm1d(1, affine=False).eval(), [[1.0], [3.0]], [[1.0 / np.sqrt(1 + 1e-5)], [3.0 / np.sqrt(1 + 1e-5)]]),
])
def test_layers_take_nested_lists_as_the_others_do(layer, x, expected):
    # Linear, LayerNorm, Conv, the activations and pooling took nested lists; these raised
    # "'list' object has no attribute 'shape'"
    np.testing.assert_allclose(np.asarray(getattr(layer(x), "data", layer(x))), expected, rtol=1e-15)


# ---------------------------------------------------------------------------- flags of modules

MODULE_FLAGS = {
    "Linear(bias)": lambda v: nn.Linear(2, 2, bias=v),
    "Conv1d(bias)": lambda v: nn.Conv1d(2, 2, 1, bias=v),
    "Conv2d(bias)": lambda v: nn.Conv2d(2, 2, 1, bias=v),
    "BatchNorm1d(affine)": lambda v: nn.BatchNorm1d(2, affine=v),
    "BatchNorm2d(track_running_stats)": lambda v: nn.BatchNorm2d(2, track_running_stats=v),
    "BatchNorm1d(bias)": lambda v: nn.BatchNorm1d(2, bias=v),
    "LayerNorm(elementwise_affine)": lambda v: nn.LayerNorm(2, elementwise_affine=v),
    "LayerNorm(bias)": lambda v: nn.LayerNorm(2, bias=v),
    "Embedding.from_pretrained(freeze)": lambda v: nn.Embedding.from_pretrained(np.eye(2), freeze=v),
    "Dropout(inplace)": lambda v: nn.Dropout(0.1, inplace=v),
    "ReLU(inplace)": lambda v: nn.ReLU(inplace=v),
    "LeakyReLU(inplace)": lambda v: nn.LeakyReLU(inplace=v),
    "SiLU(inplace)": lambda v: nn.SiLU(inplace=v),
    "zero_grad(set_to_none)": lambda v: nn.Linear(1, 1).zero_grad(v),
    "state_dict(keep_vars)": lambda v: nn.Linear(1, 1).state_dict(keep_vars=v),
    "register_buffer(persistent)": lambda v: nn.Module().register_buffer("a", np.ones(1), persistent=v),
    "named_parameters(recurse)": lambda v: list(nn.Linear(1, 1).named_parameters(recurse=v)),
    "buffers(recurse)": lambda v: list(nn.BatchNorm1d(1).buffers(recurse=v)),
    "optimizer.zero_grad(set_to_none)": lambda v: optim.SGD(nn.Linear(1, 1).parameters()).zero_grad(v),
    "register_forward_hook(with_kwargs)": lambda v: nn.ReLU().register_forward_hook(print, with_kwargs=v),
    "register_forward_hook(always_call)": lambda v: nn.ReLU().register_forward_hook(print, always_call=v),
    "register_forward_pre_hook(prepend)": lambda v: nn.ReLU().register_forward_pre_hook(print, prepend=v),
}


@pytest.mark.parametrize("name", sorted(MODULE_FLAGS))
@pytest.mark.parametrize("value", ["no", 0, None])
def test_a_module_flag_must_be_a_bool(name, value):
    # bias="no" or affine="no" is truthy: the option was silently on
    with pytest.raises(TypeError, match="must be True or False"):
        MODULE_FLAGS[name](value)


@pytest.mark.parametrize("name", sorted(MODULE_FLAGS))
def test_module_flags_take_numpy_bools(name):
    MODULE_FLAGS[name](np.bool_(False))


# ---------------------------------------------------------------------------- SGD: 0-d parameters

def _sgd_reference(p0, grads, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """torch.optim.SGD's documented algorithm, one line per formula."""
    p, buf = float(p0), None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        buf = g if buf is None else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


SGD_OPTIONS = [
    dict(momentum=0.9, dampening=0.0, weight_decay=0.1, nesterov=False, maximize=False),
    dict(momentum=0.9, dampening=0.3, weight_decay=0.0, nesterov=False, maximize=True),
    dict(momentum=0.5, dampening=0.0, weight_decay=0.2, nesterov=True, maximize=True),
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_momentum_buffer_of_a_0d_parameter_follows_the_algorithm(options):
    # with weight decay or maximize the step's gradient of a 0-d parameter was a NumPy scalar: its momentum
    # buffer was never updated in place (every step used only the first gradient)
    grads = [0.5, -1.25, 2.0, 0.75]
    p = Value(np.array(1.5), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, **options)
    for g in grads:
        p.grad = Value(np.array(g))
        opt.step()
    assert p.data.shape == ()
    assert float(p.data) == pytest.approx(_sgd_reference(1.5, grads, 0.1, **options), rel=1e-14)
    assert isinstance(opt.state[p]["momentum_buffer"], np.ndarray)


# ---------------------------------------------------------------------------- optimizer flags

FLAGS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9), "nesterov"),
    (optim.SGD, dict(lr=0.1), "maximize"),
    (optim.Adam, dict(), "amsgrad"),
    (optim.Adam, dict(), "maximize"),
    (optim.Adam, dict(), "decoupled_weight_decay"),
    (optim.AdamW, dict(), "amsgrad"),
    (optim.RMSprop, dict(), "centered"),
    (optim.RMSprop, dict(), "maximize"),
]


@pytest.mark.parametrize("cls,options,flag", FLAGS, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("value", [1, 0, "no", None])
def test_an_optimizer_flag_must_be_a_bool(cls, options, flag, value):
    # "no" is truthy: it switched maximize on; 1 was taken, and then the optimizer's own state did not load again
    w = Value(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        cls([w], **options, **{flag: value})
    opt = cls([w], **options)
    groups = [dict(g) for g in opt.param_groups]
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        opt.add_param_group({"params": [Value(np.ones(1), requires_grad=True)], flag: value})
    assert [dict(g) for g in opt.param_groups] == groups      # nothing added


@pytest.mark.parametrize("cls,options,flag", FLAGS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_state_saved_with_a_flag_on_loads_again(cls, options, flag):
    w = Value(np.ones(2), requires_grad=True)
    saved = cls([w], **options, **{flag: True}).state_dict()
    other = cls([w], **options)
    other.load_state_dict(saved)
    assert other.param_groups[0][flag] is True


def test_an_optimizer_with_numpy_scalar_options_saves_and_resumes(tmp_path):
    # a schedule returning np.float32 (or betas given as NumPy numbers) made save() fail: "Object of type float32
    # is not JSON serializable"
    def run(steps, resume_after=None):
        w = Value(np.array([1.0, -2.0]), requires_grad=True)
        opt = optim.Adam([w], lr=np.float32(0.1), betas=(np.float32(0.9), np.float64(0.99)), amsgrad=np.bool_(True))
        for i in range(steps):
            if i == resume_after:
                opt.save(tmp_path / "adam.npz")
                opt = optim.Adam([w])
                opt.load(tmp_path / "adam.npz")
            w.grad = Value(np.array([np.sin(i), np.cos(i)]))
            opt.step()
        return w.data, opt.param_groups[0]

    straight, _ = run(5)
    resumed, group = run(5, resume_after=2)
    np.testing.assert_array_equal(resumed, straight)
    assert group["betas"] == (np.float32(0.9), 0.99) and group["amsgrad"] is True


def test_numpy_scalar_options_are_kept_as_python_numbers():
    # NumPy does np.float32 scalar arithmetic in float32 (NEP 50): Adam's bias corrections and step size lost
    # precision on float64 parameters (PyTorch takes the option as a double)
    w = Value(np.ones(2), requires_grad=True)
    opt = optim.Adam([w], lr=np.float32(0.1), betas=(np.float32(0.9), np.float32(0.99)))
    opt.add_param_group({"params": [Value(np.ones(1), requires_grad=True)], "eps": np.float32(1e-6)})
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: np.float32(0.5))
    opt.step()
    scheduler.step()
    for group in opt.param_groups:
        for key in ("lr", "eps"):
            assert type(group[key]) in (float, int), (key, type(group[key]))
        assert all(type(beta) is float for beta in group["betas"])


def test_rmsprop_refuses_alpha_above_one_before_any_change():
    # PyTorch takes alpha=1.5: the average (1 - alpha) g^2 goes negative and the step is nan, silently
    w = Value(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=r"alpha value: 1.5 .*\[0, 1\]"):
        optim.RMSprop([w], alpha=1.5)
    opt = optim.RMSprop([w])
    with pytest.raises(ValueError, match="alpha"):
        opt.add_param_group({"params": [Value(np.ones(1), requires_grad=True)], "alpha": 1.01})
    assert len(opt.param_groups) == 1


# ---------------------------------------------------------------------------- schedulers

@pytest.mark.parametrize("factor,bad", [(lambda e: -1.0, "-0.1"), (lambda e: float("nan"), "nan"),
                                        (lambda e: 1.0 if e < 2 else float("inf"), "inf")])
def test_a_schedule_giving_a_bad_learning_rate_is_refused_and_changes_nothing(factor, bad):
    w = Value(np.ones(1), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scheduler = lr_scheduler.LambdaLR(opt, factor)
            for _ in range(2):
                opt.step()
                scheduler.step()
        except ValueError as err:       # at epoch 0, the scheduler's creation is refused
            assert f"learning rate {bad}" in str(err) and "lr_lambda" in str(err)
            assert opt.param_groups[0]["lr"] == 0.1
            return
        epoch, lrs = scheduler.last_epoch, scheduler.get_last_lr()
        with pytest.raises(ValueError, match=f"learning rate {bad}"):
            opt.step()
            scheduler.step()
    assert (scheduler.last_epoch, scheduler.get_last_lr(), opt.param_groups[0]["lr"]) == (epoch, lrs, lrs[0])


def test_a_refused_scheduler_leaves_the_optimizer_groups_as_they_were():
    # the groups kept the initial_lr of a scheduler that was never made: a later one resuming with
    # last_epoch >= 0 would have taken it for a saved schedule
    opt = optim.SGD([Value(np.ones(1), requires_grad=True)], lr=0.1)
    before = [dict(group) for group in opt.param_groups]
    with pytest.raises(ValueError, match="learning rate -0.1"):
        lr_scheduler.LambdaLR(opt, lambda epoch: -1.0)
    assert [dict(group) for group in opt.param_groups] == before
    with pytest.raises(ValueError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=1, last_epoch=3)


def test_a_schedule_may_give_one_element_arrays():
    w = Value(np.ones(1), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    scheduler = lr_scheduler.LambdaLR(opt, lambda e: np.exp(np.array([-float(e)])))
    opt.step()
    scheduler.step()
    assert type(opt.param_groups[0]["lr"]) is float and opt.param_groups[0]["lr"] == pytest.approx(0.1 * np.exp(-1))


def test_lambda_lr_state_dict_with_a_callable_without_dict():
    # math.exp or a callable with __slots__: state_dict() raised AttributeError '__dict__' (PyTorch too)
    class Halving:
        __slots__ = ("factor",)

        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor ** epoch

    opt = optim.SGD([Value(np.ones(1), requires_grad=True)], lr=0.1)
    opt.add_param_group({"params": [Value(np.ones(1), requires_grad=True)]})
    scheduler = lr_scheduler.LambdaLR(opt, [math.exp, Halving()])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, None]
    other = lr_scheduler.LambdaLR(opt, [math.exp, Halving()])
    other.load_state_dict(state)
    assert other.last_epoch == scheduler.last_epoch


def test_a_schedule_that_raises_leaves_the_epoch_as_it_was():
    w = Value(np.ones(1), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    scheduler = lr_scheduler.LambdaLR(opt, lambda e: 1 / (2 - e))   # epoch 2 divides by zero
    opt.step()
    scheduler.step()
    with pytest.raises(ZeroDivisionError):
        scheduler.step()
    assert scheduler.last_epoch == 1
    scheduler.lr_lambdas = [lambda e: 0.5]
    scheduler.step()
    assert scheduler.last_epoch == 2 and opt.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("key,value", [("mode", "maximum"), ("threshold_mode", "relative")])
def test_a_refused_plateau_state_changes_nothing(key, value):
    # the state was applied first, then its mode checked: the refused load left patience (and the rest) changed
    scheduler = lr_scheduler.ReduceLROnPlateau(optim.SGD([Value([1.0], requires_grad=True)], lr=0.1), patience=3)
    state = {**scheduler.state_dict(), key: value, "patience": 99}
    before = dict(scheduler.__dict__)
    with pytest.raises(ValueError, match="unknown"):
        scheduler.load_state_dict(state)
    assert scheduler.__dict__ == before


# ---------------------------------------------------------------------------- reshaping layers, empty batches

@pytest.mark.parametrize("layer,shape,expected", [
    (nn.Flatten(), (0, 4, 5), (0, 20)),
    (nn.Flatten(0, 1), (3, 0, 5), (0, 5)),
    (nn.Flatten(1, 2), (2, 0, 5), (2, 0)),
    (nn.Unflatten(1, (2, -1)), (0, 4, 5), (0, 2, 2, 5)),
    (nn.Unflatten(2, (-1, 5)), (0, 4, 5), (0, 4, 1, 5)),
    (nn.Unflatten(1, (2, 2)), (0, 4, 5), (0, 2, 2, 5)),
])
def test_flatten_and_unflatten_keep_an_empty_batch(layer, shape, expected):
    x = Value(np.zeros(shape), requires_grad=True)
    out = layer(x)
    assert out.shape == expected
    out.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("layer,shape,expected", [
    (nn.Flatten(0, -1), (), (1,)),
    (nn.Flatten(-1, 0), (), (1,)),
])
def test_flatten_of_a_0d_input_names_its_one_dimension(layer, shape, expected):
    assert layer(Value(np.zeros(shape))).shape == expected


@pytest.mark.parametrize("layer", [nn.Flatten(), nn.Flatten(1, 2), nn.Flatten(0, 1)])
def test_flatten_of_a_0d_input_refuses_dimensions_it_lacks(layer):
    # the default Flatten() (start_dim=1) gave shape (1,) where PyTorch raises
    with pytest.raises(IndexError, match="0-d"):
        layer(Value(np.array(2.0)))


def test_unflatten_refuses_empty_sizes():
    # Unflatten(0, ()) turned shape (1,) into a 0-d output (PyTorch: "sizes must be non-empty")
    with pytest.raises(ValueError, match="must not be empty"):
        nn.Unflatten(0, ())


def test_summary_keeps_a_forward_assigned_to_an_instance():
    # summary's recorder replaced it during the pass and then deleted it: the module fell back to its class forward
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.ReLU())
    model[1].forward = lambda x: x * 2.0
    x = Value(np.array([[1.0, -1.0]]))
    assert "(1, 3)" in model.summary(input_shape=(1, 2))
    np.testing.assert_array_equal(model(x).data, model[0](x).data * 2.0)    # still doubled, not ReLU'd


# ---------------------------------------------------------------------------- init

@pytest.mark.parametrize("fill,match", [
    (lambda w: nn.init.normal_(w, 0.0, float("nan")), "std >= 0"),
    (lambda w: nn.init.uniform_(w, 0.0, float("inf")), "finite bounds"),
    (lambda w: nn.init.uniform_(w, float("nan"), 1.0), "finite bounds"),
    (lambda w: nn.init.xavier_uniform_(w, gain=float("nan")), "finite bounds"),
])
def test_an_initialiser_refuses_a_non_finite_spread_and_leaves_the_tensor(fill, match):
    # std=nan filled the weight with nan; an infinite bound raised NumPy's "high - low range exceeds valid bounds"
    w = nn.Parameter(np.ones((3, 2)))
    with pytest.raises(ValueError, match=match):
        fill(w)
    np.testing.assert_array_equal(w.data, np.ones((3, 2)))


# ---------------------------------------------------------------------------- losses

@pytest.mark.parametrize("make", [lambda v: nn.CrossEntropyLoss(ignore_index=v), lambda v: nn.NLLLoss(ignore_index=v)])
@pytest.mark.parametrize("value", [1.5, True, "1", None])
def test_ignore_index_must_be_an_int(make, value):
    # 1.5 or "1" matched no target: nothing was ignored, silently
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        make(value)


@pytest.mark.parametrize("value", ["0.1", None, True])
def test_label_smoothing_must_be_a_number(value):
    with pytest.raises(TypeError, match="label_smoothing must be a number"):
        nn.CrossEntropyLoss(label_smoothing=value)


def test_ignore_index_as_numpy_int_ignores_its_class():
    loss = nn.NLLLoss(ignore_index=np.int64(1), reduction="sum")
    assert loss(Value([[-1.0, -2.0], [-3.0, -4.0]]), np.array([1, 0])).item() == 3.0


# ---------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("make,shape", [
    (lambda: nn.BatchNorm1d(3), (0, 3)),
    (lambda: nn.BatchNorm1d(3, affine=False), (0, 3, 4)),
    (lambda: nn.BatchNorm1d(3, track_running_stats=False), (0, 3)),
    (lambda: nn.BatchNorm1d(3, momentum=None, bias=False), (0, 3)),
    (lambda: nn.BatchNorm2d(3), (0, 3, 2, 2)),
    (lambda: nn.BatchNorm2d(3), (2, 3, 0, 2)),
])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_batch_is_empty_as_in_pytorch(make, shape, training):
    # PyTorch returns an empty output connected to weight and bias, keeps the running statistics, counts the batch
    bn = make().train(training)
    before = _state(bn)
    x = Value(np.zeros(shape), requires_grad=True)
    out = bn(x)
    assert out.shape == shape and out.dtype == np.float64
    out.sum().backward()
    assert x.grad.shape == shape
    for p in bn.parameters():
        np.testing.assert_array_equal(p.grad.data, np.zeros(3))
    after = _state(bn)
    if "num_batches_tracked" in before:
        assert int(after.pop("num_batches_tracked")) == int(before.pop("num_batches_tracked")) + training
    _assert_same_state(before, after)


def test_batch_norm_of_one_value_per_channel_is_still_refused_when_training():
    bn = nn.BatchNorm1d(3)
    before = _state(bn)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(Value(np.ones((1, 3))))
    _assert_same_state(before, _state(bn))


@pytest.mark.parametrize("spoil", [
    lambda bn: setattr(bn, "momentum", 1.5),                             # the op refuses the momentum
    lambda bn: setattr(bn, "weight", nn.Parameter(np.ones(4))),          # the op refuses the weight's shape
    lambda bn: setattr(bn, "running_mean", np.zeros(3, dtype=np.int64)),  # and an integer running mean
])
def test_a_refused_batch_norm_call_does_not_count_the_batch(spoil):
    # the count went up before the op checked its arguments: a refused call left the layer half-changed
    bn = nn.BatchNorm1d(3)
    spoil(bn)
    before = _state(bn)
    with pytest.raises((TypeError, ValueError)):
        bn(Value(np.random.default_rng(0).normal(size=(4, 3))))
    _assert_same_state(before, _state(bn))


def test_batch_norm_numpy_scalar_momentum_updates_in_float64():
    # np.float32(0.1): (1 - momentum) was float32 arithmetic, the running variance off by ~1e-8 (torch: a double)
    x = np.array([[1.0, 2.0], [3.0, 7.0], [0.5, -1.0]])
    bn = nn.BatchNorm1d(2, momentum=np.float32(0.1))
    bn(Value(x))
    m = float(np.float32(0.1))
    np.testing.assert_allclose(bn.running_var, (1 - m) * 1.0 + m * x.var(axis=0, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(bn.running_mean, m * x.mean(axis=0), rtol=1e-15)


def test_batch_norm_cumulative_average_counts_each_batch_once():
    # momentum=None: the running mean is the plain average of the batch means (the factor is 1/count, this batch
    # counted)
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(4, 2)) for _ in range(3)]
    bn = nn.BatchNorm1d(2, momentum=None)
    for batch in batches:
        bn(Value(batch))
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-14)
    assert int(bn.num_batches_tracked) == 3


# ---------------------------------------------------------------------------- loading state

def test_load_state_dict_copies_buffers_in_place():
    # the buffers were replaced by new arrays: whoever held the old ones (a captured jit step updating the running
    # statistics, a reference taken before) kept stale values; PyTorch copies into the existing buffers
    bn, source = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    source(Value(np.array([[1.0, 2.0], [3.0, 7.0]])))
    held = [bn.running_mean, bn.running_var, bn.num_batches_tracked]
    bn.load_state_dict(source.state_dict())
    assert held[0] is bn.running_mean and held[1] is bn.running_var and held[2] is bn.num_batches_tracked
    np.testing.assert_array_equal(held[0], source.running_mean)
    np.testing.assert_array_equal(held[1], source.running_var)
    assert int(held[2]) == 1


def test_load_state_dict_casts_into_a_float32_buffer_in_place():
    bn = nn.BatchNorm1d(2, dtype=np.float32)
    held = bn.running_mean
    bn.load_state_dict({**bn.state_dict(), "running_mean": np.array([0.1, 0.2])})
    assert bn.running_mean is held and held.dtype == np.float32
    np.testing.assert_array_equal(held, np.array([0.1, 0.2], dtype=np.float32))


def test_casting_a_module_to_its_own_dtype_keeps_its_arrays():
    # .double() on a float64 model replaced every parameter's and buffer's array by a copy: references held
    # elsewhere (a captured jit step, a view) went stale
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model(Value(np.array([[1.0, 2.0], [3.0, 5.0]]))).sum().backward()
    held = [p.data for p in model.parameters()] + [p.grad for p in model.parameters()] + list(model.buffers())
    model.double()
    assert all(a is b for a, b in zip(held, [p.data for p in model.parameters()] + [p.grad for p in model.parameters()]
                                      + list(model.buffers())))
    model.float()
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float32 and model[1].num_batches_tracked.dtype == np.int64


# ---------------------------------------------------------------------------- registration order, containers

@pytest.mark.parametrize("register,expected", [
    (lambda m: m.register_parameter("weight", nn.Parameter(np.ones((2, 2)))), ["weight", "bias"]),
    (lambda m: m.register_parameter("weight", None), ["bias"]),
    (lambda m: setattr(m, "weight", nn.Parameter(np.ones((2, 2)))), ["weight", "bias"]),
])
def test_re_registering_a_parameter_keeps_its_place(register, expected):
    # it moved to the end: state_dict and parameters() (so an optimizer's parameter indices) came in another order
    layer = nn.Linear(2, 2)
    register(layer)
    assert list(layer.state_dict()) == expected
    assert [name for name, _ in layer.named_parameters()] == expected


def test_re_registering_a_buffer_keeps_its_place_and_its_new_persistence():
    bn = nn.BatchNorm1d(2)
    bn.register_buffer("running_mean", np.ones(2))
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    bn.register_buffer("running_mean", np.ones(2), persistent=False)
    assert "running_mean" not in bn.state_dict()
    bn.register_buffer("running_mean", np.ones(2))
    assert list(bn.state_dict())[2] == "running_mean"


def test_replacing_a_module_dict_entry_keeps_its_place():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.Linear(1, 1)})
    heads["a"] = nn.ReLU()
    assert list(heads.keys()) == ["a", "b"]
    heads.update({"a": nn.Tanh()})
    assert [(name, type(m).__name__) for name, m in heads.items()] == [("a", "Tanh"), ("b", "Linear")]


def _children(container):
    return [(name, id(module)) for name, module in container.named_children()]


@pytest.mark.parametrize("make", [lambda: nn.Sequential(nn.Linear(1, 1), nn.ReLU()),
                                  lambda: nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])])
@pytest.mark.parametrize("change,error", [
    (lambda c: c.extend([nn.Tanh(), 3]), TypeError),
    (lambda c: c.extend(m for m in [nn.Tanh(), None]), TypeError),
    (lambda c: c.insert(3, nn.Tanh()), IndexError),
    (lambda c: c.insert(-3, nn.Tanh()), IndexError),
    (lambda c: c.insert("0", nn.Tanh()), TypeError),
])
def test_a_refused_container_change_changes_nothing(make, change, error):
    container = make()
    before = _children(container)
    with pytest.raises(error):
        change(container)
    assert _children(container) == before


@pytest.mark.parametrize("modules,error", [
    ({"x": nn.ReLU(), "y": 3}, TypeError),
    ([("x", nn.ReLU()), ("y",)], ValueError),
    ([("x", nn.ReLU()), ("a.b", nn.ReLU())], KeyError),
])
def test_a_refused_module_dict_update_adds_nothing(modules, error):
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    before = _children(heads)
    with pytest.raises(error):
        heads.update(modules)
    assert _children(heads) == before


@pytest.mark.parametrize("index,expected", [(0, ["Tanh", "Linear", "ReLU"]), (-1, ["Linear", "Tanh", "ReLU"]),
                                            (2, ["Linear", "ReLU", "Tanh"]), (-2, ["Tanh", "Linear", "ReLU"])])
def test_container_insert_is_list_insert_within_range(index, expected):
    for container in (nn.Sequential(nn.Linear(1, 1), nn.ReLU()), nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])):
        container.insert(index, nn.Tanh())
        assert [type(m).__name__ for m in container] == expected
        assert [name for name, _ in container.named_children()] == ["0", "1", "2"]


def test_container_pop_removes_and_renumbers():
    for container in (nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Tanh()),
                      nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh()])):
        assert type(container.pop(-2)).__name__ == "ReLU"
        assert [(name, type(m).__name__) for name, m in container.named_children()] == [("0", "Linear"),
                                                                                         ("1", "Tanh")]


# ---------------------------------------------------------------------------- PyTorch parity

def test_sgd_with_0d_parameters_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    rng = np.random.default_rng(1)
    start = [rng.normal(size=()), rng.normal(size=(3,))]
    ours = [Value(np.array(a), requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    options = dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)
    opt, topt = optim.SGD(ours, **options), torch.optim.SGD(theirs, **options)
    for _ in range(4):
        grads = [rng.normal(size=np.shape(a)) for a in start]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = Value(np.array(g)), torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-13)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_batch_matches_pytorch(training):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    bn, tbn = nn.BatchNorm2d(3).train(training), torch.nn.BatchNorm2d(3).double().train(training)
    x = np.zeros((0, 3, 2, 2))
    out, tout = bn(Value(x)), tbn(torch.tensor(x))
    assert out.shape == tuple(tout.shape)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(bn.weight.grad.data, tbn.weight.grad.numpy())
    for key, value in tbn.state_dict().items():
        np.testing.assert_array_equal(bn.state_dict()[key], value.numpy(), err_msg=key)


def test_adam_with_numpy_float32_options_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    rng = np.random.default_rng(2)
    start = rng.normal(size=4)
    ours, theirs = Value(start.copy(), requires_grad=True), torch.tensor(start.copy(), requires_grad=True)
    options = dict(lr=np.float32(0.1), betas=(np.float32(0.9), np.float32(0.99)), eps=np.float32(1e-6))
    opt = optim.Adam([ours], **options)
    topt = torch.optim.Adam([theirs], **{k: python_value(v) for k, v in options.items()})
    for _ in range(5):
        g = rng.normal(size=4)
        ours.grad, theirs.grad = Value(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-14)


def python_value(value):
    return tuple(float(v) for v in value) if isinstance(value, tuple) else float(value)


def test_re_registered_parameters_keep_pytorch_order():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.register_parameter("weight", nn.Parameter(np.ones((2, 2))))
    theirs.register_parameter("weight", torch.nn.Parameter(torch.ones(2, 2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())

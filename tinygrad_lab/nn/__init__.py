"""Neural-network building blocks with PyTorch's names and numbers (`torch.nn`).

Example:
    >>> import numpy as np
    >>> from tinygrad_lab import Value, nn, optim
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    >>> opt = optim.SGD(model.parameters(), lr=1.0)
    >>> x, y = Value(np.array([[0.0, 1.0], [1.0, 1.0]])), np.array([[1.0], [0.0]])
    >>> loss = nn.MSELoss()(model(x), y)
    >>> opt.zero_grad(); loss.backward(); opt.step()
"""
from . import functional, init
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .layers import Dropout, Flatten, Identity, Linear, Unflatten
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, StateDictError, load, load_state, save
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .sparse import Embedding

__all__ = [
    "functional", "init",
    "Parameter", "Module", "IncompatibleKeys", "StateDictError", "save", "load", "load_state",
    "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Dropout",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
]
__all__ += [
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "GELU", "SiLU", "Unflatten",
]

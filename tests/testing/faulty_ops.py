"""Ops with the classic backward mistakes, shared by the gradient-check tests (each mistake written once)."""
from tinygrad_lab import Function


class HalfSquare(Function):
    """x**2 with the factor 2 forgotten."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x,)


class MeanBias(Function):
    """x + b (b broadcast over rows) with the bias gradient averaged over the rows instead of summed."""

    @staticmethod
    def forward(x, b):
        return x + b

    @staticmethod
    def backward(g, out, x, b):
        return (g, g.mean(axis=0))

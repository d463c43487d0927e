"""Activation functions and normalisations as primitives. Valid TensorScript and valid Python:
each function takes the op's arguments in schema order (after the ones the decomposition
requires to be constant, see ``DECOMPOSITIONS``)."""
import math

import torch


def softmax(self: torch.Tensor, dim: int) -> torch.Tensor:
    # Subtracting the row maximum keeps exp from overflowing; the result is unchanged.
    shifted = self - self.amax(dim, keepdim=True)
    e = shifted.exp()
    return e / e.sum(dim, keepdim=True)


def log_softmax(self: torch.Tensor, dim: int) -> torch.Tensor:
    shifted = self - self.amax(dim, keepdim=True)
    return shifted - shifted.exp().sum(dim, keepdim=True).log()


def silu(self: torch.Tensor) -> torch.Tensor:
    return self * torch.sigmoid(self)


def gelu(self: torch.Tensor) -> torch.Tensor:
    return 0.5 * self * (1.0 + torch.erf(self * (1.0 / math.sqrt(2.0))))


def gelu_tanh(self: torch.Tensor) -> torch.Tensor:
    inner = math.sqrt(2.0 / math.pi) * (self + 0.044715 * self * self * self)
    return 0.5 * self * (1.0 + torch.tanh(inner))

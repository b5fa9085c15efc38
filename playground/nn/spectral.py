"""Spectral normalisation (Miyato et al. 2018) through torch's own parametrization: W / sigma(W),
sigma estimated by one power iteration per forward in training (the u vector is a buffer, so it
is saved, resumed and exported like any weight)."""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def sn(module: nn.Module, enabled: bool = True) -> nn.Module:
    return spectral_norm(module, eps=1e-6) if enabled else module


def conv(c_in: int, c_out: int, k: int = 3, enabled: bool = True) -> nn.Module:
    return sn(nn.Conv2d(c_in, c_out, k, 1, k // 2), enabled)


def linear(d_in: int, d_out: int, enabled: bool = True, bias: bool = True) -> nn.Module:
    return sn(nn.Linear(d_in, d_out, bias=bias), enabled)

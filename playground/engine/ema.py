"""Exponential moving average of G's weights (Karras et al.; Yazici et al. 2019)."""

import copy

import torch


def make_ema(G: torch.nn.Module) -> torch.nn.Module:
    ema = copy.deepcopy(G).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: torch.nn.Module, G: torch.nn.Module, decay: float) -> None:
    for pe, p in zip(ema.parameters(), G.parameters()):
        pe.lerp_(p.detach(), 1.0 - decay)
    for be, b in zip(ema.buffers(), G.buffers()):  # BatchNorm running stats: copy, not average
        be.copy_(b)

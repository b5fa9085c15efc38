"""Exponential moving average of G's weights (Karras et al.; Yazici et al. 2019)."""

import copy
import math

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


def ema_decay(decay: float, steps_done: int, rampup: float) -> float:
    """The decay for the update after `steps_done` steps. With `rampup` (stylegan2-ada's
    ema_rampup, 0.05 there) the average's half-life is at most rampup * steps_done, so early in a
    run the average follows G instead of remembering the random initial weights for thousands of
    steps; later the full `decay` applies. rampup = 0: always `decay`."""
    if not rampup or decay <= 0:
        return decay
    half_life = math.log(0.5) / math.log(decay)               # in steps
    ramped = min(half_life, rampup * steps_done)
    return 0.5 ** (1.0 / ramped) if ramped > 0 else 0.0

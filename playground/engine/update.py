"""The one place an optimiser step happens (stylegan2-ada's `accumulate_gradients` idea).

A family computes a loss and calls `ctx.update("D", loss)`. Here, once for every family:
zero the net's gradients, backward *into that optimiser's parameters only* (so G's update never
writes gradients into D and nobody toggles requires_grad), average gradients over DDP ranks,
undo fp16 loss scaling, clip, step, and count.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..errors import PlaygroundError
from .dist import Dist
from ..steps import PREFIX

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    name: str
    device_type: str

    @property
    def dtype(self) -> torch.dtype | None:
        return PRECISIONS[self.name]

    def autocast(self):
        """Mixed precision for a step's forward passes (a no-op at fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def full(self):
        """fp32 inside an autocast region: gradient penalties and R1 need it (their second-order
        terms under- and overflow in half precision)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, enabled=False)


def make_precision(name: str, device: torch.device) -> Precision:
    if name not in PRECISIONS:
        raise PlaygroundError(f"precision must be one of {', '.join(PRECISIONS)}, got {name!r}")
    if name == "fp16" and device.type == "cpu":
        raise PlaygroundError("fp16 training needs a GPU; on the CPU use --precision bf16 or fp32")
    return Precision(name, device.type)


def _params(opt: torch.optim.Optimizer) -> list[torch.nn.Parameter]:
    return [p for group in opt.param_groups for p in group["params"] if p.requires_grad]


class Updater:
    """`updater(name, loss)`: one optimiser step of opts[name] on loss (see the module doc)."""

    def __init__(self, opts: dict[str, torch.optim.Optimizer], dist: Dist, precision: Precision,
                 clip_grad: float = 0.0):
        if not clip_grad >= 0:  # also refuses NaN
            raise PlaygroundError(f"gradient clipping must be >= 0 (0 = off), got {clip_grad}")
        self.opts, self.dist, self.clip_grad = opts, dist, clip_grad
        self.params = {k: _params(o) for k, o in opts.items()}
        fp16 = precision.name == "fp16"
        self.scalers = {k: torch.amp.GradScaler(precision.device_type) if fp16 else None for k in opts}
        self.counts = {k: 0 for k in opts}
        self.measure = False            # set on the steps that log: then each update records its gradient norm
        self._norms: dict[str, torch.Tensor] = {}

    def use(self, opts: dict[str, torch.optim.Optimizer]) -> None:
        """Step these optimisers from now on (a schedule rebuilt them); scalers and counts carry on."""
        self.opts, self.params = opts, {k: _params(o) for k, o in opts.items()}

    def __call__(self, name: str, loss: torch.Tensor) -> None:
        opt, params, scaler = self.opts[name], self.params[name], self.scalers[name]
        opt.zero_grad(set_to_none=True)
        (loss if scaler is None else scaler.scale(loss)).backward(inputs=params)
        self.dist.all_reduce_grads(params)
        if scaler is not None:
            scaler.unscale_(opt)
        if self.clip_grad:
            norm = torch.nn.utils.clip_grad_norm_(params, self.clip_grad)   # the norm before clipping
        elif self.measure:
            grads = [p.grad for p in params if p.grad is not None]
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])) \
                if grads else torch.zeros(())
        if self.measure:
            self._norms[name] = norm.detach()     # a tensor: read at logging, with the losses
        if scaler is None:
            opt.step()
        else:
            scaler.step(opt)  # skips the step (and lowers the scale) on inf/NaN gradients
            scaler.update()
        self.counts[name] += 1

    def take_grad_norms(self) -> dict[str, torch.Tensor]:
        """`health/grad_norm_<net>` of the last measured step's updates (then forgotten).

        Under fp16 loss scaling an inf/NaN norm is an overflow of the scaled gradients, not a
        diverging run: GradScaler skipped that step and lowered its scale (it starts at 2^16 and
        overflows on the first steps by design), so the norm is left out, not reported as health.
        Deciding that reads the norm on the host: this runs only on the steps that log."""
        out = {f"{PREFIX}grad_norm_{k}": v for k, v in self._norms.items()
               if self.scalers[k] is None or bool(torch.isfinite(v))}
        self._norms = {}
        return out

    def state_dict(self) -> dict:
        return {"counts": dict(self.counts),
                "scalers": {k: s.state_dict() for k, s in self.scalers.items() if s is not None}}

    def load_state_dict(self, state: dict | None) -> None:
        if not state:  # checkpoints from before the helper existed
            return
        self.counts.update(state.get("counts", {}))
        for k, s in state.get("scalers", {}).items():
            if self.scalers.get(k) is not None:
                self.scalers[k].load_state_dict(s)

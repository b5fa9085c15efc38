"""Data-parallel training under PyTorch's own launcher (torchrun), or one plain process.

    torchrun --nproc_per_node 2 -m playground train --family gan ...

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT; `from_env` joins the
process group (NCCL for CUDA, gloo for CPU). Gradients are averaged by hand in `all_reduce_grads`
(one flat buffer per optimiser step, as stylegan2-ada does) rather than by wrapping nets in
DistributedDataParallel: a family's nets are called several times per step, with parts frozen and
with double backward for penalties, which DDP's hooks do not like; a mean over ranks of per-rank
mean losses over equal slices is the gradient of the global batch's mean loss, which is all DDP
would compute.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as tdist

from ..errors import PlaygroundError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def all_reduce_grads(self, params: list[torch.nn.Parameter]) -> None:
        """Replace each gradient by its mean over ranks (one collective for all of them)."""
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        tdist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def mean_scalars(self, scalars: dict) -> dict:
        """Named scalars averaged over ranks (for logging; one collective)."""
        if not self.active or not scalars:
            return scalars
        keys = sorted(scalars)
        device = self._collective_device()
        v = torch.stack([torch.as_tensor(scalars[k], dtype=torch.float32).detach().reshape(()).to(device)
                         for k in keys])
        tdist.all_reduce(v)
        v /= self.world
        return dict(zip(keys, v.cpu()))

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (e.g. a stop asked for on one of them)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self._collective_device())
        tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
        return bool(t.item())

    def _collective_device(self) -> torch.device:
        """Where small host-side values go for a collective: NCCL only reduces GPU tensors."""
        return torch.device("cuda", self.local_rank) if tdist.get_backend() == "nccl" else torch.device("cpu")

    def broadcast_modules(self, modules) -> None:
        """Rank 0's weights and buffers everywhere (the same seed should already agree; this makes sure)."""
        if not self.active:
            return
        for m in modules:
            for t in [*m.parameters(), *m.buffers()]:
                tdist.broadcast(t.data, src=0)

    def average_buffers(self, modules) -> None:
        """Mean of each floating-point buffer over ranks (BatchNorm running stats, StyleGAN's w_avg),
        before a checkpoint. These are running averages of per-rank batch statistics, linear in
        them, so the mean over ranks is what one process would hold (exactly for means)."""
        if not self.active:
            return
        for m in modules:
            for b in m.buffers():
                if b.is_floating_point():
                    tdist.all_reduce(b.data)
                    b.data /= self.world

    def barrier(self) -> None:
        if self.active:
            tdist.barrier()


def env_world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def from_env(device: torch.device) -> Dist:
    """The process's place in a torchrun launch (or a single process when not launched by it)."""
    world = env_world()
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not tdist.is_available():
        raise PlaygroundError("this torch build has no torch.distributed")
    if not tdist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local)
        tdist.init_process_group(backend=backend)
    return Dist(rank=rank, world=world, local_rank=local)


def local_device(device: torch.device, dist: Dist) -> torch.device:
    """Under torchrun each process drives its own GPU (LOCAL_RANK); CPU ranks share the CPU."""
    if device.type == "cuda" and dist.active:
        return torch.device("cuda", dist.local_rank)
    return device


def shutdown_current(clean: bool = True) -> None:
    """Leave the process group. After a clean finish every rank first waits for the others, so none
    tears down its connections while a peer is still writing its last checkpoint or events; after a
    failure it leaves at once (a barrier would wait for a rank that may never come)."""
    if not (tdist.is_available() and tdist.is_initialized()):
        return
    if clean:
        tdist.barrier()
    tdist.destroy_process_group()


def exit_process(code: int | None) -> None:
    """End the process with `code`. A torchrun rank skips the interpreter's finalisation: with the
    process group gone nothing is left to do there. A rank that had finished cleanly once aborted
    while leaving ("terminate called without an active exception", failing the whole launch), in the
    group's teardown or in finalisation's; the barrier in `shutdown_current` covers the first, this
    the second. Every file the project writes is closed by then; the standard streams are flushed."""
    if env_world() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 0)
    sys.exit(code)

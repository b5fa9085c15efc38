"""Reproducibility: the notes' `same_seeds` plus a fully deterministic mode."""

import math
import os
import random

import numpy as np
import torch


def same_seeds(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device), as in the source notes."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def deterministic_mode(enabled: bool = True) -> None:
    """Ask torch for deterministic kernels everywhere (slower on GPU; errors on ops without one)."""
    if enabled:
        # cuBLAS needs this workspace setting for deterministic matmuls; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled, warn_only=False)
    torch.backends.cudnn.benchmark = not enabled and torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic = enabled


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private RNG stream, so sampling never touches (or depends on) the global RNG."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def parse_seed_list(text: str, max_count: int = 16, max_seed: int = 2**32 - 1) -> list[int]:
    """'1, 4, 10-13' -> [1, 4, 10, 11, 12, 13]. Refuses junk, negative or too many seeds."""
    from .errors import PlaygroundError

    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise PlaygroundError(f"seeds must be whole numbers or ranges like 3-7, got {part!r}") from None
        if not 0 <= a <= b <= max_seed:
            raise PlaygroundError(f"invalid seed range {part!r}: need 0 <= start <= end <= {max_seed}")
        if len(seeds) + (b - a + 1) > max_count:
            raise PlaygroundError(f"at most {max_count} seeds, got more in {text!r}")
        seeds.extend(range(a, b + 1))
    if not seeds:
        raise PlaygroundError("give at least one seed, e.g. 1,2,3 or 0-5")
    return seeds


class BatchRNG:
    """Per-sample random draws for this process's slice of a (possibly distributed) global batch.

    Every draw is made for the whole global batch (first dimension n * world) from one generator
    and this rank keeps rows [rank*n, (rank+1)*n). So every rank's generator advances in step, and
    N processes see exactly the noise one process would see for the same global batch. With
    world = 1 each draw is the plain `torch.rand*(..., generator=g)` call.
    """

    def __init__(self, gen: torch.Generator, rank: int = 0, world: int = 1):
        self.gen, self.rank, self.world = gen, rank, world
        self.device = gen.device

    def _slice(self, x: torch.Tensor, n: int) -> torch.Tensor:
        return x if self.world == 1 else x[self.rank * n:(self.rank + 1) * n]

    def randn(self, n: int, *shape: int, dtype: torch.dtype | None = None) -> torch.Tensor:
        x = torch.randn(n * self.world, *shape, generator=self.gen, device=self.device, dtype=dtype)
        return self._slice(x, n)

    def rand(self, n: int, *shape: int) -> torch.Tensor:
        return self._slice(torch.rand(n * self.world, *shape, generator=self.gen, device=self.device), n)

    def randint(self, low: int, high: int, n: int, *shape: int) -> torch.Tensor:
        x = torch.randint(low, high, (n * self.world, *shape), generator=self.gen, device=self.device)
        return self._slice(x, n)


def as_batch_rng(g: "torch.Generator | BatchRNG") -> BatchRNG:
    """Model code takes either a plain generator (sampling) or the trainer's BatchRNG."""
    return g if isinstance(g, BatchRNG) else BatchRNG(g)


TRUNCATION_RANGE = (0.04, 10.0)


def truncated_normal(n: int, dim: int, threshold: float, g: torch.Generator) -> torch.Tensor:
    """[n, dim] N(0, 1) draws, each entry redrawn from `g` until |z_i| <= threshold (BigGAN's
    truncation trick). Deterministic for a generator state; never returns |z_i| > threshold."""
    lo, hi = TRUNCATION_RANGE
    if not lo <= threshold <= hi:  # also refuses NaN
        raise ValueError(f"truncation threshold must be between {lo} and {hi}, got {threshold}")
    z = torch.randn(n, dim, generator=g)
    bad = z.abs() > threshold
    while bad.any():
        z[bad] = torch.randn(int(bad.sum()), generator=g)
        bad = z.abs() > threshold
    return z


@torch.no_grad()
def reset_linear_(module: torch.nn.Module, g: torch.Generator) -> torch.nn.Module:
    """PyTorch's default nn.Linear initialisation (Kaiming-uniform with a = sqrt 5, bias uniform in
    +-1/sqrt(fan_in)), drawn from `g`: seeded weights that never touch the global RNG. Build the
    module on the meta device first so that its construction draws nothing either."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=g)
            if layer.bias is not None:
                bound = 1 / math.sqrt(layer.in_features) if layer.in_features else 0.0
                torch.nn.init.uniform_(layer.bias, -bound, bound, generator=g)
    return module

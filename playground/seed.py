"""Reproducibility: the notes' `same_seeds` plus a fully deterministic mode."""

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

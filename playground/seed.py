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

"""Bounds on what a caller may ask for (counts, seeds), shared by the capability modules."""

from __future__ import annotations

import numpy as np

from ..errors import PlaygroundError

MAX_SAMPLES = 1024
MAX_SEED = 2**32 - 1


def check_n_seed(n: int, seed: int) -> None:
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
        raise PlaygroundError(f"n must be between 1 and {MAX_SAMPLES}, got {n}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise PlaygroundError(f"seed must be an integer between 0 and {MAX_SEED}, got {seed}")

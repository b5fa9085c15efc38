"""Hugging Face ZeroGPU support, a no-op everywhere else.

On a ZeroGPU Space a GPU is lent to one decorated call at a time (`@spaces.GPU(duration=...)`),
and `spaces` must be imported before anything touches CUDA. So app.py calls `import_spaces()`
first thing, models are moved to the device at start-up (ZeroGPU records that and replays it on
the lent GPU), and every handler that runs a model gets a lease through `gpu_lease`. Training
does not fit a per-call lease (a run outlives any one call), so on ZeroGPU it runs on the CPU.
Without the `spaces` package (local runs, CI, plain CPU Spaces) everything here does nothing.
"""

from __future__ import annotations

import importlib
import os

DEFAULT_LEASE_S = 60


def import_spaces():
    """The `spaces` module when installed (on Spaces it is), else None. Call before torch."""
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


def on_zerogpu() -> bool:
    """Running on ZeroGPU hardware (the Space sets SPACES_ZERO_GPU)."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true", "yes")


def gpu_lease(fn, duration: int = DEFAULT_LEASE_S):
    """`fn` under `@spaces.GPU(duration=...)` when `spaces` is installed (itself a no-op off
    ZeroGPU); `fn` unchanged otherwise."""
    spaces = import_spaces()
    return spaces.GPU(duration=duration)(fn) if spaces is not None else fn

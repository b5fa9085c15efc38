"""Device choice: CUDA when available, else MPS, else CPU."""

import contextlib

import torch

from .errors import PlaygroundError


def thread_pinner():
    """A function that gives the thread calling it this thread's torch CPU thread count.

    OpenMP keeps that count per thread: a server's request threads start with the default, not
    what the main thread set, and a different count changes float sums in the last bit, so the
    same seed would draw images a few pixel values apart depending on which thread served it."""
    n = torch.get_num_threads()

    def pin() -> None:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    return pin


def pick_device(requested: str | None = None) -> torch.device:
    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise PlaygroundError("--device cuda was asked for but no CUDA GPU is available here")
    if requested not in ("cpu", "cuda", "mps"):
        raise PlaygroundError(f"unknown device {requested!r}: use cpu, cuda, mps or auto")
    return torch.device(requested)


@contextlib.contextmanager
def exact_fp32():
    """Full fp32 in CUDA matmuls and convolutions for the duration (no TF32: cuDNN uses it by
    default, and a GPU training run turns it on for matmuls), so a seed served in fp32 draws the
    same image on the GPU as on the CPU. The process-wide flags are restored afterwards."""
    mm, conv = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = mm, conv

"""Writing generated samples to disk: a PNG grid or an .npz of images (and labels), atomically."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import PlaygroundError
from .convert import grid, to_pil


def write_samples(out: str | Path, images: np.ndarray, labels: np.ndarray | None,
                  nrow: int | None = None) -> Path:
    """.png: one grid; .npz: images uint8 [N,H,W,C] (+ labels int64 [N]). Atomic."""
    out = Path(out)
    if out.suffix not in (".png", ".npz"):
        raise PlaygroundError(f"output must be .png or .npz, not {out.name!r}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise PlaygroundError(f"cannot write {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PlaygroundError(f"cannot write {out}: permission denied")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{out.name}.", suffix=out.suffix)
    os.close(fd)
    try:
        if out.suffix == ".png":
            to_pil(grid(images, nrow or math.ceil(math.sqrt(len(images))))).save(tmp, format="PNG")
        else:
            arrays = {"images": images.astype(np.uint8)}
            if labels is not None:
                arrays["labels"] = labels.astype(np.int64)
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        os.replace(tmp, out)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise PlaygroundError(f"cannot write {out}: {e.strerror}") from None
    return out

"""A folder of images. Class sub-folders (folder/cat/*.png) become labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import PlaygroundError
from ..images.reading import MAX_PIXELS
from .base import ImageDataset

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"}
MAX_IMAGES = 100_000


def _read(path: Path, size: int, channels: int) -> np.ndarray:
    try:
        with Image.open(path) as im:
            if im.size[0] * im.size[1] > MAX_PIXELS:  # from the header: a bomb is never decoded
                raise PlaygroundError(f"image {path.name} is {im.size[0]}x{im.size[1]}; the limit is "
                                      f"{MAX_PIXELS:,} pixels")
            im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            s = min(w, h)  # centre square crop, then resize
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((size, size), Image.BICUBIC)
            arr = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise PlaygroundError(f"cannot read image {path}: {e}") from None
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def load_folder(path: str, size: int = 32, channels: int | None = None) -> ImageDataset:
    root = Path(path)
    if not root.is_dir():
        raise PlaygroundError(f"image folder {root} does not exist")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir())
    groups = [(d.name, sorted(p for p in d.rglob("*") if p.suffix.lower() in EXTENSIONS)) for d in subdirs]
    groups = [(n, files) for n, files in groups if files]
    if not groups:
        files = sorted(p for p in root.iterdir() if p.suffix.lower() in EXTENSIONS)
        groups = [("", files)] if files else []
    total = sum(len(f) for _, f in groups)
    if total == 0:
        raise PlaygroundError(f"no images ({', '.join(sorted(EXTENSIONS))}) found in {root}")
    if total > MAX_IMAGES:
        raise PlaygroundError(f"{root} has {total} images; the limit is {MAX_IMAGES}")
    if channels is None:
        with Image.open(groups[0][1][0]) as im:
            channels = 1 if im.mode in ("L", "1", "I;16", "I") else 3
    arrays, labels = [], []
    for k, (_, files) in enumerate(groups):
        for f in files:
            arrays.append(_read(f, size, channels))
            labels.append(k)
    images = torch.from_numpy(np.stack(arrays))
    labelled = len(groups) > 1 or groups[0][0] != ""
    return ImageDataset(images, torch.tensor(labels) if labelled else None, f"folder:{root}",
                        [n for n, _ in groups] if labelled else [])

"""Photos for super-resolution: scikit-image's bundled samples (offline) or any image folder.

Training and held-out photos never overlap; motorcycle_right is left out entirely because it is
the stereo twin of motorcycle_left.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import PlaygroundError
from .base import ImageDataset

TRAIN_PHOTOS = ("astronaut", "chelsea", "hubble_deep_field", "ihc", "motorcycle_left", "retina", "rocket")
HELD_OUT_PHOTOS = ("coffee", "camera", "grass")
_FILES = {"astronaut": "astronaut.png", "chelsea": "chelsea.png", "hubble_deep_field": "hubble_deep_field.jpg",
          "ihc": "ihc.png", "motorcycle_left": "motorcycle_left.png", "retina": "retina.jpg",
          "rocket": "rocket.jpg", "coffee": "coffee.png", "camera": "camera.png", "grass": "grass.png"}


def skimage_photo(name: str) -> np.ndarray:
    """uint8 [H, W, 3] (grey photos are replicated to RGB)."""
    try:
        import skimage.data
    except ImportError:
        raise PlaygroundError("super-resolution photos need scikit-image: pip install scikit-image") from None
    path = Path(skimage.data.__file__).parent / _FILES[name]
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def photos(split: str, folder: str | None = None) -> dict[str, np.ndarray]:
    if folder:
        root = Path(folder)
        files = sorted(p for p in root.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp", ".webp"})
        if not files:
            raise PlaygroundError(f"no photos in {root}")
        out = {}
        for p in files:
            with Image.open(p) as im:
                out[p.stem] = np.asarray(im.convert("RGB"))
        return out
    names = TRAIN_PHOTOS if split == "train" else HELD_OUT_PHOTOS
    return {n: skimage_photo(n) for n in names}


def random_crops(images: dict[str, np.ndarray], size: int, count: int, seed: int) -> ImageDataset:
    """`count` random size x size crops with random flips and 90-degree rotations, uint8 in memory."""
    g = np.random.default_rng(seed)
    pool = [im for im in images.values() if min(im.shape[:2]) >= size]
    if not pool:
        raise PlaygroundError(f"no photo is at least {size}x{size}")
    weights = np.array([im.shape[0] * im.shape[1] for im in pool], dtype=np.float64)
    crops = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        im = pool[g.choice(len(pool), p=weights / weights.sum())]
        y, x = g.integers(0, im.shape[0] - size + 1), g.integers(0, im.shape[1] - size + 1)
        c = im[y:y + size, x:x + size]
        c = np.rot90(c, g.integers(0, 4))
        crops[i] = c[:, ::-1] if g.random() < 0.5 else c
    return ImageDataset(torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous(), None, "photos")


def load_photo_patches(spec: str, split: str, size: int = 64, count: int = 16000, seed: int = 0) -> ImageDataset:
    """`photos` (scikit-image) or `photos:FOLDER` -> a bank of HR training crops."""
    folder = spec.split(":", 1)[1] if ":" in spec else None
    ds = random_crops(photos(split, folder), size, count, seed)
    ds.name = spec
    return ds

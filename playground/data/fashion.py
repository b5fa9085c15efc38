"""Fashion-MNIST: Debian's dataset-fashion-mnist package, a folder, or torchvision."""

from __future__ import annotations

import os
from pathlib import Path

from .base import ImageDataset
from .idx_source import cache_root, load_idx_dataset

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_fashion(split: str, data_dir: str | None = None, allow_download: bool = False) -> ImageDataset:
    folders = [Path(p) for p in (data_dir, os.environ.get("PLAYGROUND_FASHION_DIR")) if p]
    folders += [DEBIAN_DIR, cache_root()]
    return load_idx_dataset(
        name="fashion", split=split, folders=folders, tv_class="FashionMNIST", class_names=CLASSES,
        allow_download=allow_download,
        how_to="Install it with `apt-get install dataset-fashion-mnist`, pass --data-dir with the "
               "idx files (or set PLAYGROUND_FASHION_DIR), or use --download when online.")

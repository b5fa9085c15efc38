"""Shared search for idx-format datasets: explicit folders, then torchvision's cache/download."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import PlaygroundError
from .base import ImageDataset
from .idx import find_idx_pair, read_idx


def cache_root() -> Path:
    return Path(os.environ.get("PLAYGROUND_DATA", Path.home() / ".cache" / "playground" / "data"))


def load_idx_dataset(*, name: str, split: str, folders: list[Path], tv_class: str,
                     class_names: list[str], allow_download: bool, how_to: str) -> ImageDataset:
    looked = []
    for folder in folders:
        # torchvision lays files out as ROOT/<Class>/raw/...; accept both layouts.
        for candidate in (folder, folder / tv_class / "raw"):
            looked.append(str(candidate))
            pair = find_idx_pair(candidate, split) if candidate.is_dir() else None
            if pair:
                images = torch.from_numpy(read_idx(pair[0]).copy())
                labels = torch.from_numpy(read_idx(pair[1]).astype("int64"))
                if images.ndim != 3 or len(images) != len(labels):
                    raise PlaygroundError(f"{pair[0]}: expected [N, H, W] images matching the labels")
                return ImageDataset(images.unsqueeze(1), labels, name, class_names)
    if allow_download:
        import torchvision  # only when asked: the download needs the network

        root = cache_root()
        try:
            ds = getattr(torchvision.datasets, tv_class)(str(root), train=split == "train", download=True)
        except Exception as e:  # noqa: BLE001 - any network/IO failure becomes one clear line
            raise PlaygroundError(f"{name}: download failed ({e}); looked in {', '.join(looked)}") from None
        return ImageDataset(ds.data.unsqueeze(1).to(torch.uint8), ds.targets.long(), name, class_names)
    raise PlaygroundError(
        f"dataset {name!r} ({split}) not found; looked in: {', '.join(looked)}. {how_to}")

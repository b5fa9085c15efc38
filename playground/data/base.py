"""The in-memory dataset type and the name -> loader table."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import PlaygroundError


@dataclass
class ImageDataset:
    images: torch.Tensor            # uint8 [N, C, H, W]
    labels: torch.Tensor | None     # int64 [N] or None
    name: str
    class_names: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError("images must be uint8 [N, C, H, W]")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("labels and images differ in length")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, idx: torch.Tensor, name: str | None = None) -> "ImageDataset":
        labels = None if self.labels is None else self.labels[idx]
        return ImageDataset(self.images[idx], labels, name or self.name, list(self.class_names))

    def pad_to(self, size: int) -> "ImageDataset":
        """Zero-pad (black background) square images up to `size`, e.g. 28 -> 32."""
        h = self.images.shape[-1]
        if h == size:
            return self
        p = (size - h) // 2
        images = torch.nn.functional.pad(self.images, (p, size - h - p, p, size - h - p))
        return ImageDataset(images, self.labels, self.name, list(self.class_names))


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images_u8.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] [N, C, H, W] -> uint8 [N, H, W, C] for display and files."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu()


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
    """Load a dataset by name (see package docstring). Errors name every place looked."""
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

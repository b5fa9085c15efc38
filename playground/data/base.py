"""The in-memory dataset type every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


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

    def padded_to_power_of_two(self) -> tuple[int, "ImageDataset"]:
        """(the original size, the images zero-padded to the next power of two >= 8): 28 -> 32."""
        size = self.images.shape[-1]
        return size, self.pad_to(max(8, 1 << (size - 1).bit_length()))

    def pad_to(self, size: int) -> "ImageDataset":
        """Zero-pad (black background) square images up to `size`, e.g. 28 -> 32."""
        h = self.images.shape[-1]
        if h == size:
            return self
        p = (size - h) // 2
        images = torch.nn.functional.pad(self.images, (p, size - h - p, p, size - h - p))
        return ImageDataset(images, self.labels, self.name, list(self.class_names))

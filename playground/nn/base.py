"""The generator contract every family's G follows (see DESIGN.md, Contracts)."""

import torch
from torch import nn
import torch.nn.functional as F


class Generator(nn.Module):
    """forward(z, c=None) -> [N, C, H, W] in [-1, 1].

    Subclasses set z_dim, num_classes (0 when unconditional), img_channels, img_resolution.
    """

    def __init__(self, z_dim: int, num_classes: int, img_channels: int, img_resolution: int):
        super().__init__()
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.img_channels = img_channels
        self.img_resolution = img_resolution

    def with_label(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Concatenate a one-hot label to z (the notes' conditioning); z alone if unconditional."""
        if not self.num_classes:
            return z
        if c is None:
            raise ValueError("this generator is conditional: pass class labels c")
        return torch.cat([z, F.one_hot(c, self.num_classes).to(z.dtype)], dim=1)

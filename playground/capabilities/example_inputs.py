"""Fixed-seed example inputs for any kind's generator: what `export` traces and checks with, and
what the bf16 inference check renders. Plain tensors on the CPU, named as the exports name them."""

from __future__ import annotations

import torch

from ..contract import Kind
from ..models import LoadedModel


def example_inputs(model: LoadedModel, n: int, image_size: int | None = None) -> dict[str, torch.Tensor]:
    """{"x": images in [-1, 1]} for image-to-image kinds (`image_size`, default the model's), else
    {"z": latents} plus {"c": classes 0, 1, 2, ...} when the generator is class-conditional, or
    {"e": sentence embeddings} for the text kind."""
    G, kind = model.G, model.kind
    g = torch.Generator().manual_seed(0)
    if kind in (Kind.TRANSLATOR, Kind.UPSCALER):
        size = image_size or G.img_resolution
        return {"x": torch.rand(n, G.img_channels, size, size, generator=g) * 2 - 1}
    z = G.sample_latent(n, g) if kind is Kind.CODES else torch.randn(n, G.z_dim, generator=g)
    if kind is Kind.TEXT:       # sentence embeddings: unit vectors, as the sentence encoder gives
        e = torch.randn(n, G.text_dim, generator=g)
        return {"z": z, "e": e / e.norm(dim=1, keepdim=True)}
    return {"z": z, "c": torch.arange(n) % G.num_classes} if G.num_classes else {"z": z}

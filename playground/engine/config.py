"""Fitting a family's Config to the dataset's shape (building one from settings: contract/settings.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import PlaygroundError


def fit_to_dataset(cfg, family, ds) -> Any:
    """Shapes come from the data: channels, resolution and (conditional) class count."""
    c, h, w = ds.shape
    if h != w:
        raise PlaygroundError(f"images must be square, got {h}x{w}")
    updates = {"img_channels": c, "img_resolution": h}
    if family.labels_needed(cfg):
        if ds.labels is None or ds.num_classes < 2:
            raise PlaygroundError(f"{family.name} is conditional and needs a labelled dataset; "
                                  f"{ds.name} has no class labels")
        updates["num_classes"] = ds.num_classes
    return dataclasses.replace(cfg, **updates)

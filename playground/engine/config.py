"""Building a family's Config from defaults, user overrides and the dataset's shape."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import PlaygroundError


def _coerce(value: Any, default: Any, key: str) -> Any:
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            return tuple(type(default[0])(v) for v in value.split(","))
    except ValueError:
        raise PlaygroundError(f"{key}={value!r} is not a valid {type(default).__name__}") from None
    return value


def make_config(family, overrides: dict | None = None, base: dict | None = None):
    """family.Config built from `base` (e.g. a checkpoint's saved config) then `overrides`."""
    fields = {f.name: f for f in dataclasses.fields(family.Config)}
    values = dict(base or {})
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise PlaygroundError(
                f"{family.NAME} has no setting {key!r}; settings: {', '.join(fields)}")
        default = values.get(key, dataclasses.asdict(family.Config()).get(key))
        values[key] = _coerce(value, default, key)
    unknown = set(values) - set(fields)
    if unknown:
        raise PlaygroundError(f"config has settings {sorted(unknown)} unknown to family {family.NAME}")
    return family.Config(**values)


def fit_to_dataset(cfg, family, ds) -> Any:
    """Shapes come from the data: channels, resolution and (conditional) class count."""
    c, h, w = ds.shape
    if h != w:
        raise PlaygroundError(f"images must be square, got {h}x{w}")
    updates = {"img_channels": c, "img_resolution": h}
    needs_labels = family.needs_labels(cfg) if hasattr(family, "needs_labels") else family.CONDITIONAL
    if needs_labels:
        if ds.labels is None or ds.num_classes < 2:
            raise PlaygroundError(f"{family.NAME} is conditional and needs a labelled dataset; "
                                  f"{ds.name} has no class labels")
        updates["num_classes"] = ds.num_classes
    if hasattr(cfg, "domain_a"):  # two-domain families: the dataset's two classes are A and B
        present = sorted(set(ds.labels.tolist())) if ds.labels is not None else []
        if len(present) != 2:
            raise PlaygroundError(f"{family.NAME} needs exactly two classes (domains A and B), e.g. "
                                  f"'fashion:7,9' or a folder with two sub-folders; {ds.name} has {len(present)}")
        updates.update(domain_a=present[0], domain_b=present[1],
                       domain_names=(ds.class_names[present[0]], ds.class_names[present[1]]))
    return dataclasses.replace(cfg, **updates)

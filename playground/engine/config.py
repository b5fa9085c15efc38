"""Building a family's Config from defaults, user overrides and the dataset's shape."""

from __future__ import annotations

import dataclasses
import math
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


def _check_value(key: str, value: Any) -> None:
    """Values a user gives must make sense before any net is built (public servers included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise PlaygroundError(f"{key} must be a finite number, got {value}")
    if key.startswith("lr") and value <= 0:
        raise PlaygroundError(f"{key} (a learning rate) must be positive, got {value}")
    if key.startswith("beta") and not 0 <= value < 1:
        raise PlaygroundError(f"{key} must be in [0, 1), got {value}")
    if isinstance(value, int) and value < 0:             # sizes, counts, intervals
        raise PlaygroundError(f"{key} must not be negative, got {value}")
    if key == "n_critic" and value < 1:
        raise PlaygroundError(f"n_critic must be at least 1, got {value}")
    if value < 0 and (key.startswith(("lambda", "clip", "gp_", "r1_", "pool", "adv_", "content_", "ortho"))):
        raise PlaygroundError(f"{key} must not be negative, got {value}")


def make_config(family, overrides: dict | None = None, base: dict | None = None):
    """family.Config built from `base` (e.g. a checkpoint's saved config) then `overrides`.

    Overrides come from the user (`--set`, the Train tab): the data-derived fields are refused
    there, since the engine fills them in from the dataset (`fit_to_dataset`)."""
    fields = {f.name: f for f in dataclasses.fields(family.Config)}
    values = dict(base or {})
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise PlaygroundError(
                f"{family.name} has no setting {key!r}; settings: {', '.join(settable(family))}")
        if key == "loss" and family.losses and value not in family.losses:
            raise PlaygroundError(f"{family.name} has no loss {value!r}; choose from {', '.join(family.losses)}")
        if key in family.derived_fields:
            raise PlaygroundError(f"{key} is set from the dataset (and the run), not by the user; "
                                  f"choose the data instead")
        default = values.get(key, dataclasses.asdict(family.Config()).get(key))
        values[key] = _coerce(value, default, key)
        _check_value(key, values[key])
    unknown = set(values) - set(fields)
    if unknown:
        raise PlaygroundError(f"config has settings {sorted(unknown)} unknown to family {family.name}")
    return family.Config(**values)


def settable(family) -> list[str]:
    """The Config fields a user may set (everything but the data-derived ones)."""
    return [f.name for f in dataclasses.fields(family.Config) if f.name not in family.derived_fields]


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

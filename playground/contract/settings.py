"""Settings that describe themselves: each Config field declares its label, help, group and bounds once.

A family's Config is a dataclass whose fields are made with `setting(...)`:

    width: int = setting(64, "width", "channels of G's and D's widest layer", group="model", low=1)

The metadata is read by one validator (`check_value`, applied by `make_config`), by the Train tab
(which builds a control for every field marked `tab=True`) and by the CLI (`train --set help`). A
server's limits (e.g. `max_n_critic`) cap the fields that name them in `limit`. The data-derived
fields (`BaseConfig.DERIVED`) are filled in from the dataset and refused as user settings.

Renamed settings: `RENAMED` maps an old spelling to the current one, so a checkpoint's config.json
written before a rename still loads (`upgrade_config`). Removed settings: a family's
`Config.REMOVED` maps each to its neutral value; a saved config holding that value loads (the key
is dropped), one that used the setting is refused with its name.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from ..errors import PlaygroundError

GROUPS = ("loss", "optimiser", "schedule", "regularisation", "model", "data")

# old spelling -> current spelling (a checkpoint's config.json may still use the old one)
RENAMED = {"lr_G": "lr"}


@dataclass(frozen=True)
class Setting:
    """What a Config field is, for people and for the validator."""

    label: str
    help: str = ""
    group: str = "model"
    low: float | None = None        # smallest allowed value (inclusive)
    high: float | None = None       # largest allowed value (inclusive)
    above: float | None = None      # the value must be greater than this (e.g. learning rates: 0)
    below: float | None = None      # the value must be smaller than this (e.g. Adam's betas: 1)
    choices: tuple = ()             # the values a text setting may take (empty: any)
    tab: bool = False               # offered as a control in the Train tab
    limit: str = ""                 # a server limit (Limits field) that caps it, e.g. "max_n_critic"

    def __post_init__(self):
        if self.group not in GROUPS:
            raise ValueError(f"setting {self.label!r}: group must be one of {GROUPS}, not {self.group!r}")

    def bounds_text(self) -> str:
        """The allowed range in words, e.g. '> 0', '[0, 1)', '1 .. 20', 'one of ns, minimax'."""
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        lo = f"> {self.above:g}" if self.above is not None else (f">= {self.low:g}" if self.low is not None else "")
        hi = f"< {self.below:g}" if self.below is not None else (f"<= {self.high:g}" if self.high is not None else "")
        return ", ".join(p for p in (lo, hi) if p)


def setting(default: Any = dataclasses.MISSING, label: str = "", help: str = "", *, factory=None,
            **bounds) -> Any:
    """A dataclass field carrying its `Setting` (see the module docstring)."""
    meta = {"setting": Setting(label=label, help=help, **bounds)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# settings many families share, declared once
def noise_size(default: int) -> Any:
    return setting(default, "noise size", "length of the noise vector z", low=1)


def critic_steps(default: int) -> Any:
    return setting(default, "n_critic", "D (critic) updates per G update", group="schedule", low=1, tab=True,
                   limit="max_n_critic")


def padded_resolution(default: int = 32) -> Any:
    return setting(default, "image size", "from the data, padded to a power of two (28x28 -> 32x32)", group="data")


def source_resolution() -> Any:
    return setting(0, "source size", "from the data: the images' size before padding (0 = not padded)",
                   group="data")


def adam_betas(beta1: float, beta2: float, why: str = "") -> tuple[Any, Any]:
    """Adam's two betas as settings (`why`: where these defaults come from)."""
    note = f" ({why})" if why else ""
    return (setting(beta1, "Adam β1", f"Adam's first-moment decay{note}", group="optimiser", low=0, below=1, tab=True),
            setting(beta2, "Adam β2", f"Adam's second-moment decay{note}", group="optimiser", low=0, below=1, tab=True))


def channel_sizes(base: int, cap: int) -> tuple[Any, Any]:
    """A growing net's channels at the top resolution (doubling per halving) and their cap."""
    return (setting(base, "channels", "channels at the top resolution, doubling per halving", low=1),
            setting(cap, "max channels", "cap on the channels at low resolutions", low=1))


def learning_rate(default: float, help: str = "G's learning rate (and every other net's unless lr_D is set)") -> Any:
    return setting(default, "learning rate", help, group="optimiser", above=0, tab=True)


def describe_field(f: dataclasses.Field) -> Setting | None:
    return f.metadata.get("setting")


def schema(Config: type) -> dict[str, Setting]:
    """field name -> Setting, in the Config's field order (every field declares one)."""
    return {f.name: describe_field(f) for f in dataclasses.fields(Config)}


@dataclass
class BaseConfig:
    """Fields every family's Config has. The DERIVED ones come from the data, not from the user."""

    img_channels: int = setting(1, "image channels", "from the data: 1 (grey) or 3 (colour)", group="data")
    img_resolution: int = setting(28, "image size", "from the data: height = width of the images", group="data")
    num_classes: int = setting(0, "classes", "from the data: the dataset's classes (0 = unconditional)",
                               group="data")

    DERIVED: ClassVar[tuple[str, ...]] = ("img_channels", "img_resolution", "num_classes")
    # removed setting -> its neutral value (a saved config may still hold it)
    REMOVED: ClassVar[Mapping[str, Any]] = {}


@dataclass
class LearningRateConfig(BaseConfig):
    """One learning rate for every net, and `lr_D` (0 = the same as `lr`) for D's own rate."""

    lr: float = learning_rate(2e-4)
    lr_D: float = setting(0.0, "D learning rate", "D's learning rate; 0 = the same as lr", group="optimiser",
                          low=0, tab=True)

    @property
    def d_lr(self) -> float:
        """D's learning rate: `lr_D` when set, else `lr`."""
        return self.lr_D or self.lr


@dataclass
class AdamConfig(LearningRateConfig):
    """Adam for every net, with the learning rates of `LearningRateConfig`."""

    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.5, 0.999)


@dataclass
class TTURConfig(AdamConfig):
    """Two time-scales (SAGAN, BigGAN): D learns 4x faster than G; Adam betas (0, 0.9)."""

    lr: float = learning_rate(1e-4, "G's learning rate (two time-scale update rule: D's is lr_D)")
    lr_D: float = setting(4e-4, "D learning rate", "D's learning rate, 4x G's by default (TTUR)",
                          group="optimiser", above=0, tab=True)
    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.0, 0.9, "TTUR")


def upgrade_config(config: dict) -> dict:
    """A saved config with today's spelling of every renamed setting (old checkpoints still load)."""
    return {RENAMED.get(k, k): v for k, v in config.items()}


def _drop_removed(family, config: dict) -> dict:
    """A saved config without the settings its family has removed; refused where one was in use."""
    removed = family.Config.REMOVED
    for key in set(config) & set(removed):
        if config[key] != removed[key]:
            raise PlaygroundError(f"this {family.name} checkpoint uses {key}={config[key]!r}, a setting this "
                                  "version no longer has (docs/experiments.md); use the version that trained it")
        del config[key]
    return config


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


def check_value(key: str, value: Any, spec: Setting, limits: Mapping[str, float] | None = None) -> None:
    """Refuse a value outside the setting's declared bounds (and the server's limit for it)."""
    what = key if spec.label in ("", key) else f"{key} ({spec.label})"
    if spec.choices and value not in spec.choices:
        raise PlaygroundError(f"{what} must be one of {', '.join(map(str, spec.choices))}; got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise PlaygroundError(f"{key} must be a finite number, got {value}")
    cap = (limits or {}).get(spec.limit) if spec.limit else None
    if cap is not None and not (spec.low or 0) <= value <= cap:
        raise PlaygroundError(f"{key} must be between {spec.low or 0:g} and {cap:g} on this server")
    if spec.above is not None and not value > spec.above:
        raise PlaygroundError(f"{what} must be positive, got {value}" if spec.above == 0 else
                              f"{what} must be above {spec.above:g}, got {value}")
    if spec.low is not None and value < spec.low:
        raise PlaygroundError(f"{what} must not be negative, got {value}" if value < 0 <= spec.low else
                              f"{what} must be at least {spec.low:g}, got {value}")
    if spec.below is not None and not value < spec.below:
        raise PlaygroundError(f"{what} must be in [{spec.low or 0:g}, {spec.below:g}), got {value}")
    if spec.high is not None and value > spec.high:
        raise PlaygroundError(f"{what} must be at most {spec.high:g}, got {value}")


def settable(family) -> list[str]:
    """The Config fields a user may set (everything but the data-derived ones)."""
    return [f.name for f in dataclasses.fields(family.Config) if f.name not in family.derived_fields]


def make_config(family, overrides: dict | None = None, base: dict | None = None,
                limits: Mapping[str, float] | None = None):
    """family.Config built from `base` (e.g. a checkpoint's saved config) then `overrides`.

    Overrides come from the user (`--set`, the Train tab): each is checked against its field's
    Setting (and `limits`, a server's caps); the data-derived fields are refused there, since the
    engine fills them in from the dataset (`fit_to_dataset`)."""
    fields = schema(family.Config)
    values = _drop_removed(family, upgrade_config(dict(base or {})))
    defaults = dataclasses.asdict(family.Config())
    for key, value in (overrides or {}).items():
        if key in RENAMED and RENAMED[key] in fields:
            raise PlaygroundError(f"{key} is now called {RENAMED[key]}: set {RENAMED[key]}={value}")
        if key in family.Config.REMOVED:
            raise PlaygroundError(f"{family.name}'s setting {key!r} was removed (docs/experiments.md says what "
                                  "it did and how it measured)")
        if key not in fields:
            raise PlaygroundError(
                f"{family.name} has no setting {key!r}; settings: {', '.join(settable(family))}")
        if key == "loss" and family.losses and value not in family.losses:
            raise PlaygroundError(f"{family.name} has no loss {value!r}; choose from {', '.join(family.losses)}")
        if key in family.derived_fields:
            raise PlaygroundError(f"{key} is set from the dataset (and the run), not by the user; "
                                  f"choose the data instead")
        values[key] = _coerce(value, values.get(key, defaults.get(key)), key)
        check_value(key, values[key], fields[key], limits)
    unknown = set(values) - set(fields)
    if unknown:
        raise PlaygroundError(f"config has settings {sorted(unknown)} unknown to family {family.name}")
    return family.Config(**values)


def settings_table(family) -> list[dict]:
    """One row per user setting: name, default, bounds, group, label, help (the CLI's `--set help`)."""
    defaults = dataclasses.asdict(family.Config())
    spec = schema(family.Config)
    return [{"name": k, "default": defaults[k], "bounds": spec[k].bounds_text(), "group": spec[k].group,
             "label": spec[k].label, "help": spec[k].help, "tab": spec[k].tab, "choices": list(spec[k].choices),
             "minimum": spec[k].low, "maximum": spec[k].high,
             "integer": isinstance(defaults[k], int) and not isinstance(defaults[k], bool)}
            for k in settable(family)]

"""The family protocol: what a family module provides, written down once.

A family is one file in `playground/families/` that ends with

    FAMILY = Family(name="dcgan", kind=Kind.SAMPLER, Config=Config, build=build,
                    build_generator=build_generator, optimizers=optimizers, train_step=train_step)

plus one line in `registry.FAMILY_MODULES`. The engine, the api and the UI read only this object:
they ask `family.kind` (or `model.kind` for a loaded checkpoint), never `hasattr` or the family's
name. The kind says what the *generator* can do, and so which capability module and which app tab
can use it:

    kind          generator contract (besides z_dim, num_classes, img_channels, img_resolution)
    sampler       forward(z) -> [N, C, H, W] in [-1, 1]
    conditional   forward(z, c) with c int64 [N] in [0, num_classes)
    codes         forward(z, c), c = the categorical code; sample_latent(n, generator) -> z;
                  apply_controls(z, code_cont=...) -> z; noise_dim, n_cont
    style         forward(z); mapping / synthesis, num_ws, w_avg (see capabilities/style.py)
    translator    forward(x, "a2b" | "b2a"); domain_names
    upscaler      forward(x) -> x upscaled by `scale`
    text          forward(z, e) with e a sentence embedding [N, text_dim] (None: the underlying
                  StyleGAN); text_ws / invert / match / synthesize (see capabilities/text.py)

Configs derive from `BaseConfig` (contract/settings.py): the fields every family has are declared
there once, each field describes itself (label, help, group, bounds), and the data-derived ones
(`DERIVED`) are filled in from the dataset by the engine; a user who tries to set one
(`--set img_resolution=64`) gets an error saying where the value comes from.

What a family needs from above its layer (the project classifier, another checkpoint) it gets
through `Resources` (contract/resources.py), handed to its hooks by the engine: a family never
imports the registry, eval or another family.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
import torch

from .settings import BaseConfig


class Kind(str, enum.Enum):
    SAMPLER = "sampler"
    CONDITIONAL = "conditional"
    CODES = "codes"
    STYLE = "style"
    TRANSLATOR = "translator"
    UPSCALER = "upscaler"
    TEXT = "text"


# Kinds whose generator maps noise to images: api.sample works for them.
NOISE_KINDS = frozenset({Kind.SAMPLER, Kind.CONDITIONAL, Kind.CODES, Kind.STYLE})


@runtime_checkable
class Generator(Protocol):
    """The generator contract every kind shares (DESIGN.md)."""

    z_dim: int
    num_classes: int
    img_channels: int
    img_resolution: int


@runtime_checkable
class CodesGenerator(Generator, Protocol):
    noise_dim: int
    n_cont: int

    def sample_latent(self, n: int, g: torch.Generator) -> torch.Tensor: ...

    def apply_controls(self, z: torch.Tensor, code_cont=None) -> torch.Tensor: ...


@runtime_checkable
class StyleGenerator(Generator, Protocol):
    num_ws: int
    mapping: torch.nn.Module
    synthesis: torch.nn.Module


@runtime_checkable
class TranslatorGenerator(Generator, Protocol):
    domain_names: tuple


@runtime_checkable
class UpscalerGenerator(Generator, Protocol):
    scale: int


@runtime_checkable
class TextGenerator(Generator, Protocol):
    text_dim: int
    num_ws: int
    w_dim: int

    def text_ws(self, e: torch.Tensor, z: torch.Tensor, truncation: float = 0.7) -> torch.Tensor: ...

    def invert(self, x: torch.Tensor) -> torch.Tensor: ...

    def match(self, x: torch.Tensor) -> torch.Tensor: ...

    def synthesize(self, ws: torch.Tensor) -> torch.Tensor: ...


GENERATOR_PROTOCOLS: dict[Kind, type] = {
    Kind.SAMPLER: Generator, Kind.CONDITIONAL: Generator, Kind.CODES: CodesGenerator,
    Kind.STYLE: StyleGenerator, Kind.TRANSLATOR: TranslatorGenerator, Kind.UPSCALER: UpscalerGenerator,
    Kind.TEXT: TextGenerator,
}


@dataclass(frozen=True)
class Phase:
    """Where a scheduled run is at one step (a family's `schedule(cfg, step)`; ProGAN's growing).

    `stage` numbers the parts of a run between which nets gain layers: when it changes the engine
    calls the family's `end_stage` and rebuilds the optimisers (fresh Adam moments for the new
    layers, as the paper resets them). `values` go into every step event and TensorBoard as
    `phase/<name>` (ProGAN: resolution and alpha). `batch_size` (global) replaces the run's
    `--batch-size` for this step; None keeps it.
    """

    stage: int
    values: dict[str, float]
    batch_size: int | None = None


def _same(cfg, *_):
    return cfg


def _unchanged(cfg, ds, resources):
    return cfg, ds


def pad_to_power_of_two(cfg, ds, resources=None):
    """A `prepare_dataset` hook for nets that double their resolution from 4x4: zero-pad the
    images to the next power of two (28 -> 32) and record the data's own size in the config's
    `source_resolution` (evaluation crops generated images back to it)."""
    size, ds = ds.padded_to_power_of_two()
    return dataclasses.replace(cfg, source_resolution=size), ds


@dataclass(frozen=True)
class Family:
    """What the engine, api and UI may use of a family. Optional hooks have working defaults."""

    name: str
    kind: Kind
    Config: type                                        # a BaseConfig dataclass
    build: Callable[[Any], dict]                        # cfg -> {"G": ..., "D": ..., ...}, G first
    build_generator: Callable[[Any], torch.nn.Module]   # cfg -> G alone (what a checkpoint holds)
    optimizers: Callable[[Any, dict], dict]             # (cfg, nets) -> {"G": opt, ...}
    train_step: Callable[[Any], dict]                   # StepContext -> {"D/loss": tensor, ...}
    losses: tuple[str, ...] = ()                        # values `Config.loss` may take ("" = no choice)
    # --- optional hooks ---
    # does this config need a labelled dataset? default: only the conditional kind
    needs_labels: Callable[[Any], bool] | None = None
    # (cfg, dataset, Resources) -> (cfg, dataset), before the data-derived fields are filled in (e.g. padding)
    prepare_dataset: Callable[[Any, Any, Any], tuple] = _unchanged
    # (cfg, nets, Resources) -> None: load the weights a run starts from into the freshly built nets,
    # before they are moved to the device (TediGAN: the frozen base StyleGAN); None = fresh weights
    warm_start: Callable[[Any, dict, Any], None] | None = None
    # (cfg, total steps) -> cfg, for schedules that need the run's length (e.g. lr decay)
    fit_to_run: Callable[[Any, int], Any] = _same
    # (StepContext, G) -> uint8 [H, W, C] progress grid; None = fixed-seed samples, a row per class
    preview: Callable[[Any, torch.nn.Module], np.ndarray] | None = None
    # saved config dict -> lines for the model card: what the config alone does not say plainly
    describe: Callable[[dict], list[str]] = lambda cfg: []
    # generator features beyond the kind's contract, which capabilities and tabs offer when listed:
    # "truncation" (sampling with |z| <= threshold), "attention" (self-attention maps to look at),
    # "growth" (G(z, resolution=R) samples any finished resolution: the growth strip)
    features: tuple[str, ...] = ()
    # cfg -> the nets `--compile` may compile: those never differentiated twice (no GP / R1 through them)
    compilable: Callable[[Any], tuple[str, ...]] = lambda cfg: ("G",)
    # (cfg, step) -> Phase: a run whose nets change as it goes (ProGAN); None = one phase throughout
    schedule: Callable[[Any, int], Phase] | None = None
    # (StepContext, shown G, finished Phase) -> None: called when a stage ends, before the optimisers
    # are rebuilt (ProGAN keeps a snapshot of G for the growth strip); shown G = the EMA when there is one
    end_stage: Callable[[Any, torch.nn.Module, Phase], None] | None = None

    def __post_init__(self):
        if not isinstance(self.kind, Kind):
            raise TypeError(f"family {self.name!r}: kind must be a Kind, not {self.kind!r}")
        if not (dataclasses.is_dataclass(self.Config) and issubclass(self.Config, BaseConfig)):
            raise TypeError(f"family {self.name!r}: Config must be a dataclass derived from BaseConfig")

    @property
    def conditional(self) -> bool:
        """Does G take dataset class labels (so a trained model knows class names)?"""
        return self.kind is Kind.CONDITIONAL

    def labels_needed(self, cfg) -> bool:
        return self.needs_labels(cfg) if self.needs_labels is not None else self.conditional

    @property
    def derived_fields(self) -> tuple[str, ...]:
        return tuple(self.Config.DERIVED)

"""Loading a generator from a checkpoint folder (shipped or a training run's --out).

A `LoadedModel` knows its family's kind (`model.kind`), which is what capability modules and tabs
ask to decide whether they can use it."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import checkpoint
from .contract import make_config
from .device import pick_device
from .errors import PlaygroundError
from .contract import Kind
from .registry import get_family, resolve_model


@dataclass
class LoadedModel:
    name: str
    path: Path
    family: str
    G: torch.nn.Module
    meta: dict                      # the whole config.json
    inference: dict = field(default_factory=dict)   # per-device choices made on first use (bf16 check)

    @property
    def kind(self) -> Kind:
        return get_family(self.family).kind

    def require(self, kinds, use: str) -> "LoadedModel":
        """This model, if its kind is one of `kinds`; else a clear error naming what it is for."""
        if self.kind not in kinds:
            raise PlaygroundError(f"{self.name} is a {self.family} model (kind {self.kind.value}); {use}: "
                                  f"only {', '.join(k.value for k in kinds)} models")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """Generator features beyond the kind (Family.features): "truncation", "attention"."""
        return get_family(self.family).features

    @property
    def num_classes(self) -> int:
        return self.G.num_classes

    @property
    def class_names(self) -> list[str]:
        names = self.meta.get("class_names") or []
        return names if len(names) == self.num_classes else [str(i) for i in range(self.num_classes)]


def build_from_config(meta: dict) -> torch.nn.Module:
    family = get_family(meta["family"])
    try:
        cfg = make_config(family, base=meta["config"])
        return family.build_generator(cfg)
    except (TypeError, ValueError) as e:
        raise PlaygroundError(f"checkpoint config is invalid for {family.name}: {e}") from None


def _bake_parametrizations(G: torch.nn.Module) -> torch.nn.Module:
    """For inference, fold parametrizations (spectral norm's W / sigma) into plain weights once,
    instead of recomputing them at every forward; the values are the trained ones."""
    from torch.nn.utils import parametrize

    for m in G.modules():
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    return G


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, device: str) -> LoadedModel:
    meta = checkpoint.read_config(path)
    G = build_from_config(meta)
    checkpoint.load_into(G, checkpoint.load_model_state(path), f"{path}/{checkpoint.MODEL_FILE}")
    G = _bake_parametrizations(G).to(device).eval()
    for p in G.parameters():
        p.requires_grad_(False)
    return LoadedModel(Path(path).name, Path(path), meta["family"], G, meta)


def load_model(name: str, device: str = "cpu") -> LoadedModel:
    """Cached per (folder, file modification time, device): a retrained folder reloads."""
    path = resolve_model(name)
    files = [path / checkpoint.CONFIG_FILE, path / checkpoint.MODEL_FILE]
    mtime = max(f.stat().st_mtime_ns for f in files if f.exists())
    model = _load_cached(str(path.resolve()), mtime, device)
    model.name = name
    return model


def load(name: str) -> LoadedModel:
    """A model on the best device here (CUDA, else MPS, else CPU): what the app serves."""
    return load_model(name, str(pick_device()))

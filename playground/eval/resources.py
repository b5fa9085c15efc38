"""The resources a training run may use from above the engine: every checkpoint the registry
resolves and the project classifiers. Whoever starts a run (api.train, the server's jobs, the
torchrun worker) hands these to the engine; see contract/resources.py."""

from __future__ import annotations

from ..contract import Resources
from ..registry import resolve_model
from .classifier import load_classifier


def training_resources() -> Resources:
    return Resources(checkpoint_dir=resolve_model, classifier=load_classifier)

"""What a training run may need from above the families' layer, handed down by whoever starts it.

A family never imports the registry or `eval`; the engine passes a `Resources` to the hooks that
take one (`prepare_dataset`, `warm_start`) and keeps it on the StepContext (`ctx.resources`), and
its health signals read the classifier through it. `eval/resources.py` builds the full set (the
registry's checkpoints, the project classifiers); `Resources()` alone has neither and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import PlaygroundError


def _no_checkpoints(name: str) -> Path:
    raise PlaygroundError(f"this run was started without access to other checkpoints, so {name!r} cannot be "
                          "loaded (start it through playground.api or the server)")


def _no_classifier(dataset: str, device: str = "cpu") -> tuple:
    raise PlaygroundError(f"this run was started without the project classifiers, so none judges {dataset!r}")


@dataclass(frozen=True)
class Resources:
    # a shipped model's name or a checkpoint folder -> that checkpoint's folder
    checkpoint_dir: Callable[[str], Path] = _no_checkpoints
    # (dataset name, device) -> (the project classifier for it, its config.json); PlaygroundError if none
    classifier: Callable[..., tuple[Any, dict]] = _no_classifier

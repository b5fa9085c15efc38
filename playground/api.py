"""The facade. The UI and the CLI call only these functions.

    list_models() / list_families() / list_datasets()
    load(name)                         -> LoadedModel (cached; .kind says what it can do)
    sample(name, n, seed, labels=None) -> uint8 [N, H, W, C], deterministic for a seed
    interpolate / code_sweep / style_mix / truncation_strip / latent_walk
    translate / translate_batch / upscale / check_against_ground_truth
    text_to_image / invert / edit      (the text kind: TediGAN)
    train(spec, stop_event)            -> iterator of engine Events
    evaluate(name, metrics, ...)       -> dict of results with provenance

The work is done in `capabilities/` (one module per family kind) and in `engine/` and `eval/`;
the functions here resolve a model name, then hand over.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from . import registry
from .capabilities import codes, sampling, style, text, translation, upscaling
from .capabilities.limits import MAX_SAMPLES, MAX_SEED
from .capabilities.codes import CODE_SWEEP_VALUES
from .capabilities.style import MAX_MIX_SEEDS
from .data import dataset_names
from .engine.diagnose import EXPLANATIONS as _EXPLANATIONS
from .engine.trainer import Event, TrainSpec, train as _train
from .errors import PlaygroundError
from .contract import Kind
from .models import LoadedModel, load

__all__ = ["TrainSpec", "Event", "Kind", "MAX_SAMPLES", "MAX_SEED", "MAX_MIX_SEEDS", "CODE_SWEEP_VALUES",
           "list_models", "list_families", "list_datasets", "shipped_model_names", "family_settings",
           "family_setting_table", "setting_groups", "family_losses", "load", "sample", "sample_with_labels", "interpolate",
           "attention_overlay", "diagnosis_explanation", "code_sweep", "style_mix", "style_layers",
           "truncation_strip", "latent_walk", "translate", "translate_batch", "upscale", "check_against_ground_truth",
           "text_to_image", "text_to_image_info", "invert", "edit", "text_seed_image", "train", "export",
           "end_distributed", "list_metrics", "metric_names", "metric_direction", "evaluate", "list_lessons",
           "run_lesson"]


def list_families() -> list[str]:
    return registry.family_names()


def shipped_model_names() -> list[str]:
    """The shipped models' names (registry order), whether or not their files are present."""
    return list(registry.shipped_models())


def family_settings(family: str) -> dict:
    """The settings a user may give a family (`--set`, the Train tab), with their defaults; the
    data-derived ones are left out, since the engine fills them in from the dataset."""
    from .contract import settable

    fam = registry.get_family(family)
    defaults = dataclasses.asdict(fam.Config())
    return {k: defaults[k] for k in settable(fam)}


def family_setting_table(family: str) -> list[dict]:
    """One row per user setting of a family: name, default, bounds, group, label, help (its schema)."""
    from .contract.settings import settings_table

    return settings_table(registry.get_family(family))


def setting_groups() -> tuple[str, ...]:
    """The groups settings are shown in, in order (loss, optimiser, ...)."""
    from .contract.settings import GROUPS

    return GROUPS


def family_losses(family: str) -> tuple[str, ...]:
    """The values a family's `loss` setting may take (empty when the family fixes its loss)."""
    return registry.get_family(family).losses


def list_datasets() -> list[str]:
    return dataset_names()


def _model_entry(name: str, path: Path, desc: str) -> dict:
    from .checkpoint import read_config

    meta = read_config(path)
    return {"name": name, "family": meta["family"], "kind": registry.get_family(meta["family"]).kind,
            "description": desc, "dataset": meta.get("dataset"),
            "conditional": meta["config"].get("num_classes", 0) > 0, "step": meta.get("step"),
            "class_names": meta.get("class_names", []), "metrics": meta.get("metrics", {}), "path": str(path)}


def list_models(runs_dir: str | Path | None = None) -> list[dict]:
    """Shipped models whose checkpoint is present, then (optionally) the runs trained or uploaded
    on this server: each with family, dataset and measured metrics. A run's name is its path."""
    out = [_model_entry(name, path, desc) for name, (path, desc) in registry.shipped_models().items()
           if (path / "config.json").is_file()]
    if runs_dir and Path(runs_dir).is_dir():
        for path in sorted(Path(runs_dir).iterdir()):
            if (path / "config.json").is_file() and (path / "model.safetensors").is_file():
                try:
                    entry = _model_entry(str(path), path, "")
                except PlaygroundError:
                    continue  # a half-copied or foreign folder is not a model; skip it
                entry["description"] = f"your run {path.name}: {entry['family']} on {entry['dataset']}, step {entry['step']}"
                out.append(entry)
    return out


def sample_with_labels(name: str, n: int, seed: int, labels: Sequence[int] | None = None,
                       **controls) -> tuple[np.ndarray, np.ndarray | None]:
    return sampling.sample_with_labels(load(name), n, seed, labels, **controls)


def diagnosis_explanation(topic: str) -> tuple[str, str]:
    """(the notes' section, a short explanation) for a training diagnosis' topic (engine/diagnose.py)."""
    return _EXPLANATIONS.get(topic, ("", ""))


def sample(name: str, n: int, seed: int, labels: Sequence[int] | None = None, **controls) -> np.ndarray:
    """uint8 [N, H, W, C]; the same (name, n, seed, labels) always gives the same images."""
    return sample_with_labels(name, n, seed, labels, **controls)[0]


def attention_overlay(name: str, seed: int, label: int | None, x: int, y: int,
                      truncation: float | None = None) -> dict:
    """Where pixel (x, y) of the sample (seed, label) looks in G's self-attention layer; see
    capabilities/attention.py. Models with the "attention" feature (SAGAN, BigGAN)."""
    from .capabilities.attention import attention_overlay as _overlay

    return _overlay(load(name), seed, label, x, y, truncation)


def interpolate(name: str, seed_a: int, seed_b: int, steps: int = 10, label: int | None = None) -> np.ndarray:
    """Spherical interpolation between the latents of two seeds: uint8 [steps, H, W, C]."""
    return sampling.interpolate(load(name), seed_a, seed_b, steps, label)


def code_sweep(name: str, seed: int, code: int, values: Sequence[float],
               code_cont: Sequence[float] | None = None) -> np.ndarray:
    """InfoGAN figure: rows = categories, columns = continuous code `code` swept over `values`."""
    return codes.code_sweep(load(name), seed, code, values, code_cont)


def style_mix(name: str, row_seeds: Sequence[int], col_seeds: Sequence[int], crossover="coarse",
              truncation: float = 1.0, noise: str = "const", noise_seed: int = 0) -> dict:
    """StyleGAN mixing grid: top row = source A (row_seeds), left column = source B (col_seeds),
    cell (i, j) = B_i with A_j's styles on the crossover layers ("coarse" | "middle" | "fine", an
    int k for layers [0, k), or (start, stop)). Returns {"grid": uint8 [H, W, C], "cells":
    uint8 [nB, nA, h, w, c], "sources_a", "sources_b", "layers", "layer_resolutions", "num_ws"}."""
    return style.style_mix(load(name), row_seeds, col_seeds, crossover, truncation, noise, noise_seed)


def style_layers(name: str) -> dict:
    """A StyleGAN's style layers: {"num_ws", "resolutions", "groups" (coarse/middle/fine ranges)}."""
    return style.layer_info(load(name))


def truncation_strip(name: str, seed: int, psis: Sequence[float] = tuple(np.linspace(-1, 1, 9)),
                     noise: str = "const") -> np.ndarray:
    """One seed at each truncation psi (w_avg + psi (w - w_avg)): uint8 [len(psis), H, W, C]."""
    return style.truncation_strip(load(name), seed, psis, noise)


def latent_walk(name: str, seed_a: int, seed_b: int, frames: int = 24, truncation: float = 1.0,
                noise: str = "const") -> np.ndarray:
    """A there-and-back walk in W between two seeds: uint8 [frames, H, W, C]."""
    return style.latent_walk(load(name), seed_a, seed_b, frames, truncation, noise)


def translate(name: str, image, direction: str = "a2b") -> dict:
    """One image (path, bytes, PIL or uint8 array) to the other domain, and back."""
    return translation.translate(load(name), image, direction)


def translate_batch(name: str, direction: str = "a2b", n: int = 16, seed: int = 0) -> np.ndarray:
    """n held-out test images of the source domain: rows of inputs, translations, reconstructions."""
    return translation.translate_batch(load(name), direction, n, seed)


def upscale(name: str, image, tile: int = 128) -> dict:
    """Super-resolve any image x4: {"sr", "bicubic"} uint8 [H*4, W*4, 3] and "conversions"."""
    return upscaling.upscale(load(name), image, tile)


def check_against_ground_truth(name: str, image) -> dict:
    """Downsample the given image x4, upscale it back, and measure PSNR/SSIM against it."""
    return upscaling.check_against_ground_truth(load(name), image)


def text_to_image(name: str, prompt: str, n: int = 16, seed: int = 0, truncation: float | None = None) -> np.ndarray:
    """Images of a sentence from a text-guided model (TediGAN): uint8 [n, H, W, C], deterministic
    for (prompt, n, seed, truncation). `text_to_image_info` also returns the image-text score."""
    return text.text_to_image(load(name), prompt, n, seed, truncation)["images"]


def text_to_image_info(name: str, prompt: str, n: int = 16, seed: int = 0, truncation: float | None = None) -> dict:
    return text.text_to_image(load(name), prompt, n, seed, truncation)


def invert(name: str, image, steps: int = text.REFINE_STEPS) -> dict:
    """An image (path, bytes, PIL, uint8 array) into the model's W+: {"w", "reconstruction",
    "encoder_only", "psnr", "mse", ...}; see capabilities/text.py."""
    return text.invert(load(name), image, steps)


def text_seed_image(name: str, seed: int) -> np.ndarray:
    """The image a seed starts an edit from (uint8 [H, W, C])."""
    return text.seed_image(load(name), seed)


def edit(name: str, source, instruction: str, strength: float = 1.0) -> dict:
    """Edit a seed's image (source = int) or an image with a sentence ("make it darker"):
    {"before", "after", "strength", "score_before", "score_after", ...}."""
    return text.edit(load(name), source, instruction, strength)


def train(spec: TrainSpec, stop_event: threading.Event | None = None) -> Iterator[Event]:
    """Run (or resume) a training run: an iterator of engine Events (see engine/trainer.py)."""
    from .eval.resources import training_resources

    return _train(spec, stop_event, training_resources())


def export(name: str, fmt: str, out: str, direction: str = "a2b") -> dict:
    """Write model `name`'s generator as ONNX or TorchScript; see capabilities/export.py."""
    from .capabilities.export import export as _export
    from .models import load_model

    return _export(load_model(name), fmt, out, direction).to_dict()


def end_distributed(clean: bool = True) -> None:
    """Leave the torchrun process group, if this process joined one (a no-op otherwise); `clean`
    (the work finished on this rank) waits for the other ranks first."""
    from .engine.dist import shutdown_current

    shutdown_current(clean)


def list_lessons() -> list[dict]:
    """The Learn tab's lessons: name, title, idea (Markdown with LaTeX), claim, tab, further."""
    from .capabilities.lessons import LESSONS

    return [{"name": l.name, "title": l.title, "idea": l.idea, "claim": l.claim, "tab": l.tab,
             "further": l.further} for l in LESSONS]


def run_lesson(name: str):
    """Run a lesson's experiment: an Outcome (figures, verdict, holds, image, lab frames)."""
    from .capabilities.lessons import run_lesson as run

    return run(name)


def list_metrics() -> list[dict]:
    """The registered metrics: name, summary, "higher"/"lower"/"" is better, kinds, card entries."""
    from .capabilities.metrics import METRICS

    return [{"name": m.name, "summary": m.summary, "better": m.better,
             "kinds": sorted(k.value for k in m.kinds), "entries": list(m.card_entries)} for m in METRICS]


def metric_names() -> list[str]:
    from .capabilities.metrics import metric_names as names

    return names()


def metric_direction(entry: str) -> str:
    """'higher' | 'lower' | '' is better, for a metric or a card entry it writes."""
    from .capabilities.metrics import entry_better

    return entry_better(entry)


def evaluate(name: str, metrics: Sequence[str] = ("fid",), n: int = 10_000, seed: int = 0,
             inception_weights: str | None = None, feature_net: str = "auto", progress=None) -> dict:
    """Metrics with provenance: {"model": name, "metrics": {entry: {"value": ..., ...}}}. `n` =
    generated samples in total. The metrics, and the kinds each applies to, are the registry's
    (capabilities/metrics.py: `metric_names()`); `tools.cards.record_metrics` stores a result in the
    checkpoint's config.json and rewrites its card (`eval --write-card`)."""
    from .capabilities.metrics import evaluate as _evaluate

    return _evaluate(name, metrics, n=n, seed=seed, inception_weights=inception_weights,
                     feature_net=feature_net, progress=progress)

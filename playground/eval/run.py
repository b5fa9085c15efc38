"""`python -m playground eval`: metrics for a model, each with its provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from .. import checkpoint
from ..errors import PlaygroundError
from ..models import load_model
from ..registry import resolve_model
from .classifier import accuracy_on, classifier_dir, load_classifier, predict

METRICS = ("cond-acc", "code-acc")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def classifier_provenance(dataset: str, net, meta: dict) -> dict:
    path = classifier_dir(dataset)
    return {"feature_network": f"playground classifier ({path.name})",
            "weights_sha256": file_sha256(path / checkpoint.MODEL_FILE),
            "classifier_test_accuracy": round(accuracy_on(net, dataset, "test"), 4),
            "classifier_test_split": f"{dataset}/test"}


@torch.no_grad()
def conditional_accuracy(name: str, n_per_class: int, seed: int) -> dict:
    """Share of samples asked for class k that the project's classifier labels k."""
    model = load_model(name)
    K = model.num_classes
    if not K:
        raise PlaygroundError(f"{name} is unconditional: cond-acc needs a class-conditional model")
    dataset = model.meta.get("dataset")
    if not dataset:
        raise PlaygroundError(f"{name} records no training dataset, so no classifier can judge it")
    net, cmeta = load_classifier(dataset)
    g = torch.Generator().manual_seed(seed)
    per_class = {}
    correct = 0
    for k in range(K):
        z = torch.randn(n_per_class, model.G.z_dim, generator=g)
        c = torch.full((n_per_class,), k, dtype=torch.long)
        x = torch.cat([model.G(z[i:i + 500], c[i:i + 500]) for i in range(0, n_per_class, 500)])
        hits = (predict(net, x) == k).sum().item()
        per_class[model.class_names[k]] = round(hits / n_per_class, 4)
        correct += hits
    return {"value": round(correct / (K * n_per_class), 4), "per_class": per_class,
            "n_generated": K * n_per_class, "seed": seed,
            **classifier_provenance(dataset, net, cmeta)}


def evaluate_model(name: str, metrics: list[str], n: int = 1000, seed: int = 0,
                   write_card: bool = False) -> dict:
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise PlaygroundError(f"unknown metric(s) {unknown}; available: {', '.join(METRICS)}")
    if n < 10 or n > 100_000:
        raise PlaygroundError(f"--n must be between 10 and 100000, got {n}")
    results = {}
    for m in metrics:
        if m == "cond-acc":
            results[m] = conditional_accuracy(name, n, seed)
        elif m == "code-acc":
            from .infogan import code_accuracy, continuous_effects

            model = load_model(name)
            net, cmeta = load_classifier(model.meta.get("dataset"))
            res = code_accuracy(model, n, seed)
            res.update(classifier_provenance(model.meta["dataset"], net, cmeta))
            res["continuous_codes"] = continuous_effects(model, seed=seed)
            results[m] = res
    if write_card:
        path = resolve_model(name)
        old = checkpoint.read_config(path).get("metrics", {})
        checkpoint.update_meta(path, metrics={**old, **results})
        from ..cards import write_card

        write_card(name)
    return {"model": name, "metrics": results}

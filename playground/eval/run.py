"""The measuring functions behind `python -m playground eval`, each result with its provenance.

Which metric is which, and which kinds it applies to, is the metric registry's business
(capabilities/metrics.py); the SR benchmark and the text metrics run a model's own operations and
live beside it, so nothing in `eval` calls back up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from .. import checkpoint
from ..errors import PlaygroundError
from ..models import load_model
from .classifier import accuracy_on, classifier_dir, load_classifier, predict


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
    dev = next(model.G.parameters()).device          # inputs follow the model
    per_class = {}
    correct = 0
    for k in range(K):
        z = torch.randn(n_per_class, model.G.z_dim, generator=g).to(dev)   # drawn on the CPU: any device agrees
        c = torch.full((n_per_class,), k, dtype=torch.long, device=dev)
        x = torch.cat([model.G(z[i:i + 500], c[i:i + 500]) for i in range(0, n_per_class, 500)])
        hits = (predict(net, x) == k).sum().item()
        per_class[model.class_names[k]] = round(hits / n_per_class, 4)
        correct += hits
    return {"value": round(correct / (K * n_per_class), 4), "per_class": per_class,
            "n_generated": K * n_per_class, "seed": seed,
            **classifier_provenance(dataset, net, cmeta)}


def fidelity_entries(res: dict) -> dict:
    """Split one torch-fidelity call into per-metric entries, each carrying the provenance."""
    v = res.pop("values")
    reference = res.pop("real_vs_real_prc", None)     # P/R's own yardstick, not FID's or KID's
    out = {}
    if "frechet_inception_distance" in v:
        out["fid"] = {"value": v["frechet_inception_distance"], **res}
    if "inception_score_mean" in v:
        out["isc"] = {"value": v["inception_score_mean"], "std": v["inception_score_std"], **res}
    if "kernel_inception_distance_mean" in v:
        out["kid"] = {"value": v["kernel_inception_distance_mean"], "std": v["kernel_inception_distance_std"], **res}
    if "precision" in v:
        out["prc"] = {"value": f"P {v['precision']:.3f} / R {v['recall']:.3f}", "precision": v["precision"],
                      "recall": v["recall"], "f_score": v["f_score"], **res}
        if reference:
            out["prc"]["real_vs_real_prc"] = reference
    return out


def code_accuracy(model, n_per_code: int, seed: int) -> dict:
    """InfoGAN's categorical code against the classes, and what each continuous code does."""
    from .infogan import code_accuracy as accuracy, continuous_effects

    net, cmeta = load_classifier(model.meta.get("dataset"))
    res = accuracy(model, n_per_code, seed)
    res.update(classifier_provenance(model.meta["dataset"], net, cmeta))
    res["continuous_codes"] = continuous_effects(model, seed=seed)
    return res


def translation(model, n: int, seed: int) -> dict:
    """Translations read as the target class, reconstructions as the source (eval/translation.py)."""
    from .translation import translation_metrics

    net, cmeta = load_classifier(model.meta["dataset"])
    return {**translation_metrics(model, n, seed),
            **classifier_provenance(model.meta["dataset"].split(":")[0], net, cmeta)}


def mixing(model, n: int, seed: int) -> dict:
    """Which style layers decide a mixed image's class (eval/mixing.py)."""
    from .mixing import mixing_rates

    net, cmeta = load_classifier(model.meta["dataset"])
    return {**mixing_rates(model, n, seed), **classifier_provenance(model.meta["dataset"].split(":")[0], net, cmeta)}

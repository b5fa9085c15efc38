"""`python -m playground eval`: metrics for a model, each with its provenance.

The SR benchmark (which runs the upscaler) and card writing live above this layer: `api.evaluate`
calls them, so nothing in `eval` calls back up into the facade."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from .. import checkpoint
from ..errors import PlaygroundError
from ..loading import load_model
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


FIDELITY = ("fid", "isc", "kid", "prc")
METRICS = FIDELITY + ("cond-acc", "code-acc", "per-class-fid", "translation", "sr", "mixing", "truncation", "text")
ABOVE = ("sr", "text")
# card entries written by a metric under other names (one `text` run measures three things)
ENTRIES = {"text": ("text-class-acc", "text-edits", "inversion")}


def metric_of(entry: str) -> str:
    """The metric (the --metrics name) that wrote a card entry."""
    return next((m for m, names in ENTRIES.items() if entry in names), entry)    # measured through capabilities (they run the model's own operations): api.evaluate


def check_request(metrics: list[str], n: int) -> None:
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise PlaygroundError(f"unknown metric(s) {unknown or metrics}; available: {', '.join(METRICS)}")
    if not 10 <= n <= 100_000:
        raise PlaygroundError(f"--n must be between 10 and 100000, got {n}")


def _fidelity_entries(res: dict) -> dict:
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


def evaluate_model(name: str, metrics: list[str], n: int = 10_000, seed: int = 0,
                   inception_weights: str | None = None, feature_net: str = "auto",
                   progress=None) -> dict:
    """Measure `name` (every metric but "sr"). `n` is the total number of generated samples."""
    check_request(metrics, n)
    if set(ABOVE) & set(metrics):
        raise PlaygroundError(f"{', '.join(m for m in ABOVE if m in metrics)} run the model's own operations: ask api.evaluate")
    model = load_model(name)
    step = (lambda frac, desc: progress(frac, desc=desc)) if progress else (lambda frac, desc: None)
    results = {}
    fid_like = [m for m in metrics if m in FIDELITY]
    if fid_like:
        from .fidelity import fidelity_metrics

        step(0.05, f"{', '.join(fid_like)} on {n} samples")
        res = fidelity_metrics(model, fid_like, n, seed, inception_weights, feature_net)
        if res is None:  # a torchrun rank other than 0: it generated its shard, rank 0 measures
            return {"model": name, "metrics": {}, "rank": int(os.environ.get("RANK", "0"))}
        results.update(_fidelity_entries(res))
    for i, m in enumerate(x for x in metrics if x not in FIDELITY):
        step(0.5 + 0.4 * i / len(metrics), m)
        if m == "cond-acc":
            results[m] = conditional_accuracy(name, max(1, n // max(model.num_classes, 1)), seed)
        elif m == "code-acc":
            from .infogan import code_accuracy, continuous_effects

            net, cmeta = load_classifier(model.meta.get("dataset"))
            res = code_accuracy(model, max(1, n // max(model.num_classes, 1)), seed)
            res.update(classifier_provenance(model.meta["dataset"], net, cmeta))
            res["continuous_codes"] = continuous_effects(model, seed=seed)
            results[m] = res
        elif m == "translation":
            from .translation import translation_metrics

            net, cmeta = load_classifier(model.meta["dataset"])
            results[m] = {**translation_metrics(model, min(n, 1000), seed),
                          **classifier_provenance(model.meta["dataset"].split(":")[0], net, cmeta)}
        elif m == "mixing":
            from .mixing import mixing_rates

            net, cmeta = load_classifier(model.meta["dataset"])
            results[m] = {**mixing_rates(model, min(n, 5000), seed),
                          **classifier_provenance(model.meta["dataset"].split(":")[0], net, cmeta)}
        elif m == "truncation":
            from .fidelity import truncation_curve

            results[m] = truncation_curve(model, min(n, 5000), seed, inception_weights, feature_net)
        elif m == "per-class-fid":
            from .fidelity import per_class_fid

            results[m] = per_class_fid(model, n, seed, inception_weights, feature_net)
    step(1.0, "done")
    return {"model": name, "metrics": results}

"""The metric registry: every metric `python -m playground eval`, `api.evaluate`, the Evaluate tab,
the CLI's help and the model cards know, each declared once.

A metric is one `Metric` row in `METRICS`: the name `--metrics` takes, the function that measures
it, the kinds of model it applies to, whether a higher or a lower value is better, one line saying
what it measures, and the card entries it writes (one `text` run writes three). Metrics that share
a `joint` name are measured by one call (torch-fidelity computes FID, IS, KID and P/R from one set
of samples). Adding a metric is adding one row; tests/test_eval.py registers a tiny one and sees
it reach the api, the CLI, the tab and a card.

The registry sits above `eval` (the measuring code and its provenance) because two metrics run a
model's own operations from this layer: `sr` (the upscaler) and `text` (TediGAN's edits).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence

from ..contract import NOISE_KINDS, Kind
from ..errors import PlaygroundError
from ..eval import run
from ..models import LoadedModel, load_model

MIN_N, MAX_N = 10, 100_000


@dataclass(frozen=True)
class MetricRequest:
    """What a measuring function gets: the model, the metrics of its call, and the run's settings."""

    name: str                          # the model's name (or checkpoint folder)
    model: LoadedModel
    metrics: tuple[str, ...]           # this call's metrics (a joint call: all of them at once)
    n: int                             # generated samples in total
    seed: int
    inception_weights: str | None = None
    feature_net: str = "auto"


@dataclass(frozen=True)
class Metric:
    name: str
    measure: Callable[[MetricRequest], dict | None]   # -> {card entry: {"value": ..., provenance...}}
    kinds: frozenset                   # the model kinds it applies to
    better: str                        # "higher" | "lower" | "" (a table or a curve: no one direction)
    summary: str                       # what it measures, in one line
    entries: tuple[str, ...] = ()      # card entries it writes; () = just its name
    joint: str = ""                    # metrics with the same joint name are measured by one call

    def __post_init__(self):
        if self.better not in ("higher", "lower", ""):
            raise ValueError(f"metric {self.name!r}: better is 'higher', 'lower' or '', not {self.better!r}")

    @property
    def card_entries(self) -> tuple[str, ...]:
        return self.entries or (self.name,)


def _per_class(req: MetricRequest) -> int:
    return max(1, req.n // max(req.model.num_classes, 1))


def _fidelity(req: MetricRequest) -> dict | None:
    from ..eval.fidelity import fidelity_metrics

    res = fidelity_metrics(req.model, list(req.metrics), req.n, req.seed, req.inception_weights, req.feature_net)
    return None if res is None else run.fidelity_entries(res)   # None: a torchrun rank other than 0


def _cond_acc(req: MetricRequest) -> dict:
    return {"cond-acc": run.conditional_accuracy(req.name, _per_class(req), req.seed)}


def _code_acc(req: MetricRequest) -> dict:
    return {"code-acc": run.code_accuracy(req.model, _per_class(req), req.seed)}


def _translation(req: MetricRequest) -> dict:
    return {"translation": run.translation(req.model, min(req.n, 1000), req.seed)}


def _mixing(req: MetricRequest) -> dict:
    return {"mixing": run.mixing(req.model, min(req.n, 5000), req.seed)}


def _truncation(req: MetricRequest) -> dict:
    from ..eval.fidelity import truncation_curve

    return {"truncation": truncation_curve(req.model, min(req.n, 5000), req.seed, req.inception_weights,
                                           req.feature_net)}


def _per_class_fid(req: MetricRequest) -> dict:
    from ..eval.fidelity import per_class_fid

    return {"per-class-fid": per_class_fid(req.model, req.n, req.seed, req.inception_weights, req.feature_net)}


def _sr(req: MetricRequest) -> dict:
    from .upscaling import sr_benchmark

    return {"sr": sr_benchmark(req.model, req.seed)}


def _text(req: MetricRequest) -> dict:
    from .text_metrics import measure

    return measure(req.model, req.seed)


NOISE = frozenset(NOISE_KINDS)
METRICS: tuple[Metric, ...] = (
    Metric("fid", _fidelity, NOISE, "lower", "Fréchet distance between generated and real features",
           joint="fidelity"),
    Metric("isc", _fidelity, NOISE, "higher", "Inception Score: confident and varied class predictions",
           joint="fidelity"),
    Metric("kid", _fidelity, NOISE, "lower", "kernel (MMD) distance between generated and real features",
           joint="fidelity"),
    Metric("prc", _fidelity, NOISE, "higher", "precision (realism) and recall (coverage) in feature space",
           joint="fidelity"),
    Metric("cond-acc", _cond_acc, frozenset({Kind.CONDITIONAL}), "higher",
           "share of samples asked for class k that the project classifier labels k"),
    Metric("code-acc", _code_acc, frozenset({Kind.CODES}), "higher",
           "how well InfoGAN's categorical code matches the classes (best assignment)"),
    Metric("per-class-fid", _per_class_fid, frozenset({Kind.CONDITIONAL}), "lower", "FID of each class alone"),
    Metric("translation", _translation, frozenset({Kind.TRANSLATOR}), "",
           "translations read as the target class; reconstructions as the source class"),
    Metric("sr", _sr, frozenset({Kind.UPSCALER}), "higher", "PSNR / SSIM on held-out photos against bicubic"),
    Metric("mixing", _mixing, frozenset({Kind.STYLE}), "",
           "which style layers decide the class of a mixed image (coarse / middle / fine)"),
    Metric("truncation", _truncation, NOISE, "", "the precision / recall trade-off as truncation tightens"),
    Metric("text", _text, frozenset({Kind.TEXT}), "higher",
           "text -> image class accuracy, edits that move their attribute, inversion quality",
           entries=("text-class-acc", "text-edits", "inversion")),
)


def metric_table() -> dict[str, Metric]:
    """name -> Metric; a duplicate name is an error."""
    table = {}
    for m in METRICS:
        if m.name in table:
            raise PlaygroundError(f"duplicate metric name {m.name!r} in the registry")
        table[m.name] = m
    return table


def metric_names() -> list[str]:
    return list(metric_table())


def metric_of(entry: str) -> str:
    """The metric (the --metrics name) that wrote a card entry."""
    return next((m.name for m in METRICS if entry in m.card_entries), entry)


def entry_better(entry: str) -> str:
    """'higher' | 'lower' | '' for a card entry (an unregistered entry: '')."""
    m = metric_table().get(metric_of(entry))
    return m.better if m else ""


def check_request(metrics: Sequence[str], n: int) -> None:
    table = metric_table()
    unknown = [m for m in metrics if m not in table]
    if unknown or not metrics:
        raise PlaygroundError(f"unknown metric(s) {unknown or list(metrics)}; available: {', '.join(table)}")
    if not MIN_N <= n <= MAX_N:
        raise PlaygroundError(f"--n must be between {MIN_N} and {MAX_N}, got {n}")


def _calls(asked: list[Metric]) -> list[list[Metric]]:
    """The asked metrics grouped into calls, in the order asked: a joint group is one call."""
    calls, joint = [], {}
    for m in asked:
        if m.joint and m.joint in joint:
            joint[m.joint].append(m)
            continue
        calls.append([m])
        if m.joint:
            joint[m.joint] = calls[-1]
    return calls


def evaluate(name: str, metrics: Sequence[str], n: int = 10_000, seed: int = 0,
             inception_weights: str | None = None, feature_net: str = "auto", progress=None) -> dict:
    """{"model": name, "metrics": {entry: result}}; under torchrun, a rank other than 0 gets
    {"model", "metrics": {}, "rank"} (its shard is in rank 0's result)."""
    metrics = list(dict.fromkeys(metrics))
    check_request(metrics, n)
    table = metric_table()
    model = load_model(name)
    for m in metrics:
        model.require(table[m].kinds, f"the {m} metric")
    step = (lambda frac, desc: progress(frac, desc=desc)) if progress else (lambda frac, desc: None)
    results = {}
    calls = _calls([table[m] for m in metrics])
    for i, call in enumerate(calls):
        names = tuple(m.name for m in call)
        step(0.05 + 0.9 * i / len(calls), f"{', '.join(names)} on {n} samples")
        req = MetricRequest(name, model, names, n, seed, inception_weights, feature_net)
        res = call[0].measure(req)
        if res is None:
            return {"model": name, "metrics": {}, "rank": int(os.environ.get("RANK", "0"))}
        results.update(res)
    step(1.0, "done")
    return {"model": name, "metrics": results}

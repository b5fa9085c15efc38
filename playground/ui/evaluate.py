"""Tab "Evaluate": metrics with provenance for one model, or two compared on equal terms."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from .. import api
from ..errors import PlaygroundError
from .common import owner_of, parse_seed, user_errors

COLUMNS = ["metric", "value", "feature network", "weights sha256", "generated", "real", "real split",
           "real-vs-real floor (FID)", "seed", "better"]


def metrics_legend() -> str:
    """One line per registered metric: what it measures, which way is better, which models it fits."""
    lines = ["| metric | measures | better | models |", "|---|---|---|---|"]
    for m in api.list_metrics():
        lines.append(f"| `{m['name']}` | {m['summary']} | {m['better'] or '(see the table)'} | "
                     f"{', '.join(m['kinds'])} |")
    return "\n".join(lines)


def rows(result: dict) -> list[list]:
    out = []
    for name, m in result["metrics"].items():
        floor = m.get("real_vs_real_floor", {})
        out.append([name, m["value"], m.get("feature_network", ""), m.get("weights_sha256", ""),
                    m.get("n_generated", m.get("n_generated_per_class", "")), m.get("n_real", ""),
                    m.get("real_split", m.get("classifier_test_split", "")),
                    floor.get("fid_test_vs_train", ""), m.get("seed", ""), api.metric_direction(name)])
    return out


def _recorded_metrics(model: str | None) -> dict:
    """What a model's config.json records (from `eval --write-card`)."""
    return next((m["metrics"] for m in api.list_models() if m["name"] == model), {}) if model else {}


def recorded(model: str | None) -> pd.DataFrame:
    """The metrics a model's config.json records, in the table's columns."""
    metrics = _recorded_metrics(model)
    measured = {k: v for k, v in metrics.items() if isinstance(v, dict) and "value" in v}
    return pd.DataFrame(rows({"metrics": measured}), columns=COLUMNS)


def _frames(curve: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The truncation trade-off as two long-format frames against the threshold: FID, and
    precision/recall ("no truncation" is the table row's, not a point here)."""
    points = [r for r in curve if r["threshold"] is not None]
    fid = pd.DataFrame({"threshold": [r["threshold"] for r in points], "value": [r["fid"] for r in points],
                        "series": "FID"})
    pr = pd.DataFrame([{"threshold": r["threshold"], "value": r[k], "series": k}
                       for r in points for k in ("precision", "recall")])
    return fid, pr


def curves(result: dict) -> tuple:
    """The plots' updates for an evaluation: the curve when it was measured, else unchanged."""
    curve = result["metrics"].get("truncation", {}).get("curve")
    return _frames(curve) if curve else (gr.skip(), gr.skip())


def recorded_curves(model: str | None) -> tuple:
    """The curve a model's config.json records (None, None when it has none)."""
    curve = (_recorded_metrics(model).get("truncation") or {}).get("curve")
    return _frames(curve) if curve else (None, None)


def _run(model, metrics, n, seed, progress):
    if not model:
        raise PlaygroundError("choose a model")
    if not metrics:
        raise PlaygroundError("choose at least one metric")
    return api.evaluate(model, metrics, n=int(n), seed=parse_seed(seed), progress=progress)


@user_errors
def evaluate(model, metrics, n, seed, progress=gr.Progress()):
    """The results table, and (for the truncation metric) the trade-off plots."""
    result = _run(model, metrics, n, seed, progress)
    return pd.DataFrame(rows(result), columns=COLUMNS), *curves(result)


@user_errors
def compare(model_a, model_b, metrics, n, seed, progress=gr.Progress()):
    """Both models, same seed, same sample count, same feature network (that of model A's data)."""
    if model_a == model_b:
        raise PlaygroundError("pick two different models to compare")
    a = _run(model_a, metrics, n, seed, progress)
    b = _run(model_b, metrics, n, seed, progress)
    table = []
    for name in a["metrics"]:
        ma, mb = a["metrics"][name], b["metrics"].get(name, {})
        net_a, net_b = ma.get("feature_network"), mb.get("feature_network")
        if net_a != net_b:  # never show numbers from different networks as comparable
            table.append([name, ma["value"], mb.get("value"), f"NOT COMPARABLE: {net_a} vs {net_b}"])
        else:
            table.append([name, ma["value"], mb.get("value"), net_a or ""])
    return pd.DataFrame(table, columns=["metric", model_a, model_b, "feature network (same for both)"])


def build(ctx) -> None:
    choices = ctx.model_choices()
    first = choices[0][1] if choices else None
    gr.Markdown("FID/IS/KID/precision-recall come from **torch-fidelity**. Without Inception-v3 weights on "
                "this machine they use the project's own classifier for the model's dataset as the feature "
                "network: those numbers are only comparable with others from the *same* network (see the "
                "table's provenance columns), and the real-vs-real floor shows how close to real is possible.")
    with gr.Row():
        model = gr.Dropdown(choices, value=first, label="Model", elem_id="ev-model", scale=3)
        refresh = gr.Button("↻", scale=0, min_width=50)
        metrics = gr.CheckboxGroup(api.metric_names(), value=["fid", "isc"], label="Metrics", elem_id="ev-metrics",
                                   scale=4)
    with gr.Accordion("What each metric measures", open=False):
        gr.Markdown(metrics_legend())
    with gr.Row():
        n = gr.Slider(100, 10000, value=2000, step=100, label="generated samples", elem_id="ev-n")
        seed = gr.Number(0, precision=0, minimum=0, label="seed")
        go = gr.Button("Evaluate", variant="primary", elem_id="ev-go")
    table = gr.Dataframe(recorded(first), headers=COLUMNS, label="Results (on opening: what the model's card "
                         "records; press Evaluate to measure again)", wrap=True, elem_id="ev-table")
    fid0, pr0 = recorded_curves(first)
    with gr.Row():
        fid_plot = gr.LinePlot(fid0, x="threshold", y="value", color="series", height=260, elem_id="ev-trunc-fid",
                               label="Truncation trade-off: FID (lower = closer to real) vs threshold")
        pr_plot = gr.LinePlot(pr0, x="threshold", y="value", color="series", height=260, elem_id="ev-trunc-pr",
                              label="Truncation trade-off: precision (fidelity) and recall (variety)")
    with gr.Accordion("Compare two models (same seeds, same feature network)", open=False):
        with gr.Row():
            model_b = gr.Dropdown(choices, value=choices[1][1] if len(choices) > 1 else None, label="Model B")
            go_cmp = gr.Button("Compare")
        cmp_table = gr.Dataframe(label="Comparison", wrap=True, elem_id="ev-compare")

    go.click(ctx.guard(evaluate), [model, metrics, n, seed], [table, fid_plot, pr_plot], api_name="evaluate")
    go_cmp.click(ctx.guard(compare, 0, 1), [model, model_b, metrics, n, seed], cmp_table, api_name="evaluate_compare")

    def refresh_lists(a, b, request: gr.Request):
        choices = ctx.model_choices(None, owner_of(request))   # every kind; this visitor's runs too
        return gr.Dropdown(choices=choices, value=a), gr.Dropdown(choices=choices, value=b)

    refresh.click(refresh_lists, [model, model_b], [model, model_b], api_name="evaluate_refresh_models")

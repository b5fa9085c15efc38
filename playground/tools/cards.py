"""Model cards (checkpoints/<name>/card.md) and the README's model table, written from config.json.

No number in a card or in the README table is typed by hand: they come from the metrics that
`python -m playground eval ... --write-card` stored in the checkpoint's config.json.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import checkpoint
from ..capabilities import codes, sampling, style, text, translation, upscaling
from ..capabilities.export import usage as export_usage
from ..capabilities.metrics import entry_better
from ..contract import Kind
from ..images.writing import write_samples
from ..images.convert import as_rgb, grid, to_pil, upscale_nearest
from ..models import load
from ..registry import CHECKPOINT_ROOT, get_family, resolve_model, shipped_models

README = CHECKPOINT_ROOT.parent / "README.md"
TABLE_START, TABLE_END = "<!-- models:start -->", "<!-- models:end -->"
GRID_SEED = 0


def _metric_lines(metrics: dict) -> list[str]:
    lines = []
    for name, m in metrics.items():
        if not isinstance(m, dict) or "value" not in m:
            continue
        ref = m.get("real_vs_real_prc")
        beside = f" (held-out real images vs training images: P {ref['precision']:.3f} / R {ref['recall']:.3f})" if ref else ""
        better = entry_better(name)
        lines.append(f"### {name}: **{m['value']}**{f' ({better} is better)' if better else ''}{beside}\n")
        for k, v in m.items():
            if k in ("value", "curve"):   # the truncation curve has its own table and plot
                continue
            lines.append(f"- {k}: {v}")
        lines.append("")
    return lines or ["No measured metrics yet: run `python -m playground eval NAME --write-card`.", ""]


def _save_grid(name: str, path: Path, meta: dict) -> tuple[str, str]:
    """The card's picture and its caption, by kind of model."""
    model = load(name)
    if model.kind is Kind.TRANSLATOR:
        a, b = meta["config"]["domain_names"]
        top, bottom = translation.translate_batch(model, "a2b", n=8), translation.translate_batch(model, "b2a", n=8)
        to_pil(np.concatenate([top, bottom], axis=0)).save(path / "samples.png")
        return "samples.png", (f"held-out test images, rows: {a}, {a}→{b}, reconstruction; then "
                               f"{b}, {b}→{a}, reconstruction")
    if model.kind is Kind.UPSCALER:
        from ..data.photos import skimage_photo

        hr = skimage_photo("coffee")[100:228, 200:328]
        res = upscaling.check_against_ground_truth(model, hr)
        to_pil(np.concatenate([res["bicubic"], res["sr"], res["hr"]], axis=1)).save(path / "samples.png")
        return "samples.png", "held-out photo crop (coffee): bicubic | model | ground truth"
    if model.kind is Kind.TEXT:
        from ..text.captions import CLASS_WORDS

        prompts = [f"a photo of a {words[0]}" for words in CLASS_WORDS["held_out"]]
        rows = [text.text_to_image(model, p, 10, GRID_SEED)["images"] for p in prompts]
        write_samples(path / "samples.png", np.concatenate(rows), None, nrow=10)
        return "samples.png", ("one row per held-out prompt (" + "; ".join(f"'{p}'" for p in prompts)
                               + f"), 10 samples each, seed {GRID_SEED}")
    K = meta["config"].get("num_classes", 0)
    n = K * 10 if K else 64
    labels = [k for k in range(K) for _ in range(10)] if K else None
    images, _ = sampling.sample_with_labels(model, n, GRID_SEED, labels=labels)
    write_samples(path / "samples.png", images, None, nrow=10 if K else 8)
    return "samples.png", (f"seed {GRID_SEED}, one row per class, 10 samples each" if K else f"seed {GRID_SEED}, 64 samples")


def _stylegan_figures(name: str, path: Path) -> list[str]:
    """Mixing grids (coarse and fine from A) and a truncation strip, saved beside the card."""
    model = load(name)
    lines = ["## Style mixing", "", "Top row: source A (seeds 0-5); left column: source B (seeds 10-15); "
             "each cell is B with A's styles on the named layers (noise: fixed maps, no truncation).", ""]
    for crossover in ("coarse", "middle", "fine"):
        res = style.style_mix(model, range(6), range(10, 16), crossover)
        if res["layers"][0] == res["layers"][1]:
            continue
        to_pil(res["grid"]).save(path / f"mixing-{crossover}.png")
        lo, hi = res["layers"]
        lines += [f"### {crossover} from A (layers {lo}-{hi - 1}, resolutions {res['layer_resolutions']})", "",
                  f"![{crossover}](mixing-{crossover}.png)", ""]
    psis = [round(-1 + 0.25 * i, 2) for i in range(9)]
    to_pil(grid(style.truncation_strip(model, 0, psis), nrow=len(psis))).save(path / "truncation.png")
    return lines + [f"### Truncation, seed 0, psi = {psis}", "", "![truncation](truncation.png)", ""]


def _infogan_figures(name: str, path: Path, meta: dict) -> list[str]:
    """One paper-style sweep per continuous code, captioned with its measured effect."""
    model = load(name)
    effects = meta.get("metrics", {}).get("code-acc", {}).get("continuous_codes", {})
    values = list(codes.CODE_SWEEP_VALUES)
    lines = ["## Continuous codes", "", f"Rows: categorical code 0-{meta['config']['n_cat'] - 1}; columns: the code "
             f"swept over {values} (beyond the training range U(-1, 1)); other codes 0, noise of seed {GRID_SEED}.", ""]
    for i in range(meta["config"]["n_cont"]):
        to_pil(grid(codes.code_sweep(model, GRID_SEED, i, values), nrow=len(values))).save(path / f"sweep-c{i + 1}.png")
        label = effects.get(f"c{i + 1}", {}).get("label", "effect not measured yet")
        lines += [f"### c{i + 1}: {label}", "", f"![c{i + 1}](sweep-c{i + 1}.png)", ""]
    seeds = list(range(10))
    to_pil(grid(codes.noise_grid(model, seeds), nrow=len(seeds))).save(path / "noise.png")
    lines += ["## What the noise does", "", f"Rows: categorical code 0-{meta['config']['n_cat'] - 1}; columns: the "
              f"noise of seeds {seeds[0]}-{seeds[-1]}; continuous codes 0. Within a row the category stays and the "
              "noise should change the style.", "", "![noise](noise.png)", ""]
    return lines


def _truncation_figures(name: str, path: Path, meta: dict) -> list[str]:
    """Samples at several thresholds and the measured trade-off curve (when evaluated)."""
    model = load(name)
    K = model.num_classes or 1
    thresholds = [0.25, 0.5, 1.0, 2.0, None]
    rows = [sampling.sample_with_labels(model, K, GRID_SEED, labels=list(range(K)) if model.num_classes else None,
                                        truncation=t)[0] for t in thresholds]
    to_pil(grid(np.concatenate(rows), nrow=K)).save(path / "truncation-samples.png")
    lines = ["## Truncation", "", f"Rows: threshold {', '.join(str(t) for t in thresholds[:-1])}, then none; "
             f"one sample per class, seed {GRID_SEED} (every |z_i| redrawn until below the threshold).", "",
             "![truncation samples](truncation-samples.png)", ""]
    curve = meta.get("metrics", {}).get("truncation", {}).get("curve")
    if not curve:
        return lines + ["Trade-off curve: not measured yet (`eval NAME --metrics truncation --write-card`).", ""]
    _plot_curve(curve, path / "truncation-curve.png")
    lines += ["### Measured trade-off", "", "![truncation curve](truncation-curve.png)", "",
              "| threshold | FID | IS | precision | recall |", "|---|---|---|---|---|"]
    lines += [f"| {'none' if r['threshold'] is None else r['threshold']} | {r['fid']} | {r['isc']} | "
              f"{r['precision']} | {r['recall']} |" for r in curve]
    return lines + [""]


def _plot_curve(curve: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [r for r in curve if r["threshold"] is not None]
    t = [r["threshold"] for r in pts]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.plot(t, [r["fid"] for r in pts], "o-", color="#6366f1", label="FID")
    ax.set_xlabel("truncation threshold"), ax.set_ylabel("FID (domain features)")
    ax2 = ax.twinx()
    for k, c in (("precision", "#16a34a"), ("recall", "#dc2626")):
        ax2.plot(t, [r[k] for r in pts], "s--", color=c, label=k)
    ax2.set_ylabel("precision / recall"), ax2.set_ylim(0, 1)
    fig.legend(loc="upper center", ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _attention_figure(name: str, path: Path) -> list[str]:
    """SAGAN's figure 1: a sample and, for three query pixels, where each looks."""
    from ..capabilities.attention import attention_overlay

    model = load(name)
    size = model.G.source_resolution
    queries = [(size // 2, size // 3), (size // 4, size // 2), (3 * size // 4, 3 * size // 4)]
    label = 0 if model.num_classes else None
    res = [attention_overlay(model, GRID_SEED, label, x, y) for x, y in queries]
    panels = grid(np.stack([as_rgb(res[0]["sample"])] + [r["overlay"] for r in res]), nrow=4)
    to_pil(upscale_nearest(panels, 4)).save(path / "attention.png")
    return ["## Self-attention", "", f"A sample (seed {GRID_SEED}, class 0) and the attention of three query pixels "
            f"{queries} (green) in G's self-attention layer (red-yellow: where its features come from).", "",
            "![attention](attention.png)", ""]


def _growth_figure(name: str, path: Path) -> list[str]:
    """ProGAN: the same seeds at the end of each resolution, one row each."""
    from ..capabilities.growth import growth_strip

    reached, images = growth_strip(load(name), 8, GRID_SEED)
    to_pil(upscale_nearest(grid(images, nrow=8), 2)).save(path / "growth.png")
    return ["## Growth strip", "", f"8 samples (z from seed {GRID_SEED}) as G was at the end of "
            f"each resolution: rows {', '.join(f'{r}x{r}' for r in reached)} (nearest-upsampled).", "",
            "![growth](growth.png)", ""]


EDIT_COLUMNS = (("shade", False), ("shade", True), ("width", False), ("width", True), ("length", False), ("length", True))


def _text_figures(name: str, path: Path) -> list[str]:
    """TediGAN: held-out instructions applied to fixed seeds, and inversions of test images."""
    import random

    from ..data import load_dataset
    from ..text.captions import attribute_instruction

    model = load(name)
    rng = random.Random(GRID_SEED)
    said = [attribute_instruction(a, high, rng, "held_out") for a, high in EDIT_COLUMNS]
    rows = []
    for seed in range(6):
        edits = [text.edit(model, seed, instr, 1.0) for instr in said]
        rows.append(np.stack([edits[0]["before"]] + [e["after"] for e in edits]))
    to_pil(upscale_nearest(grid(np.concatenate(rows), nrow=len(said) + 1), 2)).save(path / "edits.png")
    x = load_dataset("fashion", "test").images[:8].permute(0, 2, 3, 1).numpy()
    inv = [text.invert(model, img) for img in x]
    strip = np.concatenate([np.stack([r["input"] for r in inv]), np.stack([r["encoder_only"] for r in inv]),
                            np.stack([r["reconstruction"] for r in inv])])
    to_pil(upscale_nearest(grid(strip, nrow=8), 2)).save(path / "inversion.png")
    return ["## Editing with held-out instructions", "",
            "Rows: seeds 0-5. Columns: the seed's image, then " + ", ".join(f"'{s}'" for s in said)
            + " (strength 1).", "", "![edits](edits.png)", "",
            "## Inversion", "", "The first 8 Fashion-MNIST test images (top), the encoder's reconstruction "
            f"(middle), after {text.REFINE_STEPS} refinement steps (bottom).", "", "![inversion](inversion.png)", ""]


def record_metrics(name: str, results: dict) -> Path:
    """Store measured results in the checkpoint's config.json (beside those it has) and rewrite its card."""
    path = resolve_model(name)
    old = checkpoint.read_config(path).get("metrics", {})
    checkpoint.update_meta(path, metrics={**old, **results})
    return write_card(name)


def write_card(name: str) -> Path:
    path = resolve_model(name)
    meta = checkpoint.read_config(path)
    family = get_family(meta["family"])
    desc = shipped_models().get(name, (path, "a trained model"))[1]
    img, caption = _save_grid(name, path, meta)
    train = meta.get("train", {})
    lines = [
        f"# {name}", "", desc, "",
        f"- family: `{meta['family']}`", f"- dataset: `{meta.get('dataset')}`",
        f"- steps: {meta.get('step')}, batch size {train.get('batch_size')}, seed {meta.get('seed')}",
        f"- EMA decay: {train.get('ema')}, augmentation: `{train.get('augment') or 'none'}`",
        f"- config: `{meta['config']}`", *family.describe(meta["config"]),
        *([f"- provenance: {meta['provenance']}"] if meta.get("provenance") else []), "",
        "Trained with:", "", "```",
        *[f"{h['command']}   # steps to {h['to_step']}" for h in meta.get("history", [])],
        meta.get("command", "(unknown)"), "```", "",
        "## Measured metrics", "", *_metric_lines(meta.get("metrics", {})),
        f"## Samples ({caption})", "", f"![samples]({img})", "",
    ]
    if family.kind is Kind.STYLE:
        lines += _stylegan_figures(name, path)
    if family.kind is Kind.CODES:
        lines += _infogan_figures(name, path, meta)
    if "truncation" in family.features:
        lines += _truncation_figures(name, path, meta)
    if "attention" in family.features:
        lines += _attention_figure(name, path)
    if "growth" in family.features:
        lines += _growth_figure(name, path)
    if family.kind is Kind.TEXT:
        lines += _text_figures(name, path)
    lines += ["## Use it without this project", "", *export_usage(family.kind), ""]
    card = path / "card.md"
    card.write_text("\n".join(lines))
    return card


# the README's short line per model names at most this many measured figures, in this order
HEADLINE = ("cond-acc", "code-acc", "translation", "sr", "mixing", "text-class-acc", "text-edits", "inversion",
            "fid", "prc")
HEADLINE_COUNT = 3


def _headline(metrics: dict) -> str:
    """'cond-acc 0.983 · fid 41.5 · prc P 0.753 / R 0.186': the model's main measured figures."""
    parts = []
    for name in HEADLINE:
        m = metrics.get(name)
        if isinstance(m, dict) and "value" in m:
            v = m["value"]
            parts.append(f"{name} {v:.4g}" if isinstance(v, float) else f"{name} {v}")
    return " · ".join(parts[:HEADLINE_COUNT]) or "-"


def readme_table() -> str:
    """One short line per shipped model: its card, family, data and headline figures (the card has the rest)."""
    rows = ["| model | family | data | measured (card: all figures, the command, samples) |", "|---|---|---|---|"]
    for name, (path, desc) in shipped_models().items():
        if not (path / "config.json").is_file():
            continue
        meta = checkpoint.read_config(path)
        rows.append(f"| [{name}](checkpoints/{path.name}/card.md) | {meta['family']} | {meta.get('dataset')} "
                    f"| {_headline(meta.get('metrics', {}))} |")
    return "\n".join(rows)


def write_readme_table(readme: Path = README) -> Path:
    text = readme.read_text()
    block = f"{TABLE_START}\n{readme_table()}\n{TABLE_END}"
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    readme.write_text(pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n")
    return readme


def write_cards(name: str | None = None) -> list[Path]:
    names = [name] if name else [n for n, (p, _) in shipped_models().items() if (p / "config.json").is_file()]
    written = [write_card(n) for n in names]
    if README.is_file():
        written.append(write_readme_table())
    return written

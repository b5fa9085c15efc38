"""Tab "Conditional generation": class-conditional grids and seed interpolation."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .. import api
from ..errors import PlaygroundError
from ..images.convert import as_rgb, grid
from . import links
from .common import first_look, for_display, model_dropdown, parse_seed, random_seed, save_png, user_errors

ALL_CLASSES = "one row per class"
KINDS = (api.Kind.SAMPLER, api.Kind.CONDITIONAL, api.Kind.STYLE)   # InfoGAN's codes have their own tab


def class_choices(model_name: str | None) -> list[str]:
    if not model_name:
        return []
    model = api.load(model_name)
    if not model.num_classes:
        return ["(unconditional model)"]
    return [ALL_CLASSES] + [f"{k}: {n}" for k, n in enumerate(model.class_names)]


def _label(choice: str | None) -> int | None:
    """'3: Dress' -> 3; the all-classes and unconditional choices -> None."""
    if not choice or ":" not in choice or choice == ALL_CLASSES:
        return None
    head = choice.split(":", 1)[0]
    if not head.strip().isdigit():
        raise PlaygroundError(f"invalid class choice {choice!r}")
    return int(head)


def _truncation(model, value) -> float | None:
    """The slider's value for a model with truncation (0 = off); None for the others."""
    if "truncation" not in model.features or not value:
        return None
    return float(value)


@user_errors
def generate(model_name: str, class_choice: str, n: float, seed, truncation: float = 0.0):
    """The grid to show: a PNG file named after the model and seed when it is shown at its own
    size (the image's download button then gives that file), else the pixel-upscaled array."""
    seed = parse_seed(seed)
    n = int(n)
    model = api.load(model_name)
    label = _label(class_choice)
    t = _truncation(model, truncation)
    if model.num_classes and label is None:   # one row per class, n per row
        per = max(1, min(n, api.MAX_SAMPLES // model.num_classes))
        labels = [k for k in range(model.num_classes) for _ in range(per)]
        images = api.sample(model_name, len(labels), seed, labels=labels, truncation=t)
        img = grid(images, nrow=per)
    else:
        labels = None if label is None else [label] * n
        images = api.sample(model_name, n, seed, labels=labels, truncation=t)
        img = grid(images, nrow=min(n, 10))
    shown = for_display(img)
    # one PNG encode per request: a grid shown at its own size is served from the file we write
    return save_png(img, f"{model_name}-seed{seed}-") if shown.shape[:2] == img.shape[:2] else shown


@user_errors
def on_model_change(model_name: str):
    """The class list, and the controls this model's features allow (truncation, attention)."""
    choices = class_choices(model_name)
    features = api.load(model_name).features if model_name else ()
    return (gr.Dropdown(choices=choices, value=choices[0] if choices else None),
            gr.Slider(visible="truncation" in features), gr.Accordion(visible="attention" in features))


@user_errors
def attention(model_name: str, class_choice: str, seed, x: float, y: float, truncation: float = 0.0):
    """The sample (first of the grid's seed) and where its pixel (x, y) looks, side by side."""
    model = api.load(model_name)
    label = _label(class_choice)
    if model.num_classes and label is None:
        label = 0
    res = api.attention_overlay(model_name, parse_seed(seed), label, int(x), int(y), _truncation(model, truncation))
    pair = grid(np.stack([as_rgb(res["sample"]), res["overlay"]]), nrow=2)
    return for_display(pair, min_px=2 * 280)


@user_errors
def interpolate(model_name: str, class_choice: str, seed_a, seed_b, steps: float):
    label = _label(class_choice)
    model = api.load(model_name)
    if model.num_classes and label is None:
        label = 0
    strip = api.interpolate(model_name, parse_seed(seed_a), parse_seed(seed_b), int(steps), label=label)
    return for_display(grid(strip, nrow=len(strip)), min_px=100 * 8)


def build(ctx) -> links.LinkSpec:
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = model_dropdown(ctx, KINDS, "gen-model", "refresh_models")
            classes = class_choices(model.value)
            klass = gr.Dropdown(classes, value=classes[0] if classes else None, label="Class",
                                elem_id="gen-class")
            n = gr.Slider(1, 100, value=10, step=1, label="Samples (per class row)", elem_id="gen-n")
            with gr.Row():
                seed = gr.Number(value=0, precision=0, label="Seed", minimum=0, maximum=api.MAX_SEED,
                                 elem_id="gen-seed")
                dice = gr.Button("🎲", scale=0, min_width=50, elem_id="gen-dice")
            features = api.load(model.value).features if model.value else ()
            truncation = gr.Slider(0.0, 2.0, value=0.0, step=0.05, elem_id="gen-truncation",
                                   visible="truncation" in features,
                                   label="Truncation threshold (0 = off; lower = more typical, less varied)")
            go = gr.Button("Generate", variant="primary", elem_id="gen-go")
        with gr.Column(scale=2):
            out = gr.Image(first_look(generate, model.value, klass.value, 10, 0), label="Samples",
                           format="png", type="numpy", interactive=False, elem_id="gen-grid",
                           elem_classes=["pixelated"], buttons=["download", "fullscreen"])
    with gr.Accordion("Interpolate between two seeds", open=False):
        with gr.Row():
            seed_a = gr.Number(value=0, precision=0, label="Seed A", minimum=0)
            seed_b = gr.Number(value=1, precision=0, label="Seed B", minimum=0)
            steps = gr.Slider(2, 16, value=8, step=1, label="Steps")
            go_i = gr.Button("Interpolate")
        strip = gr.Image(label="Interpolation", format="png", interactive=False,
                         elem_classes=["pixelated"], elem_id="gen-strip")

    with gr.Accordion("Where does a pixel look? (self-attention, SAGAN's figure 1)", open=False,
                      visible="attention" in features, elem_id="gen-attention") as attn_box:
        gr.Markdown("The first sample for the seed and class above (left) and, for the query pixel (green), "
                    "its attention over the image in G's 16x16 self-attention layer (right; red-yellow = "
                    "where its features come from).")
        with gr.Row():
            qx = gr.Slider(0, 27, value=14, step=1, label="query x", elem_id="gen-qx")
            qy = gr.Slider(0, 27, value=10, step=1, label="query y", elem_id="gen-qy")
            go_a = gr.Button("Show attention", elem_id="gen-attn-go")
        attn_img = gr.Image(label="Sample | attention of the query pixel", format="png", interactive=False,
                            elem_classes=["pixelated"], elem_id="gen-attn")

    # .input, not .change: a link that sets the model must not have its class reset afterwards
    model.input(ctx.guard(on_model_change), model, [klass, truncation, attn_box], api_name="model_classes")
    dice.click(random_seed, None, seed, api_name="random_seed")
    # queue=False: a ~40 ms call is answered directly (one POST), not through the queue's SSE round
    # trips; with one output (the image, whose button downloads it) that is one file per call
    go.click(ctx.guard(generate), [model, klass, n, seed, truncation], out, api_name="generate", queue=False)
    go_a.click(ctx.guard(attention), [model, klass, seed, qx, qy, truncation], attn_img, api_name="attention")
    go_i.click(ctx.guard(interpolate), [model, klass, seed_a, seed_b, steps], strip, api_name="interpolate")

    controls = {"model": model, "class": klass, "n": n, "seed": seed, "truncation": truncation}
    links.link_button("generate", controls)

    def restore(params: dict, owner: str) -> list:
        models, name = links.model_choice(ctx, KINDS, params, owner, model.value)
        classes = class_choices(name)
        label = links.choice(params, "class", classes)
        count = links.number(params, "n", 10, 1, 100, integer=True)
        seed_value = links.number(params, "seed", 0, 0, api.MAX_SEED, integer=True)
        trunc = links.number(params, "truncation", 0.0, 0.0, 2.0)
        shows_truncation = "truncation" in api.load(name).features
        return [gr.Dropdown(choices=models, value=name), gr.Dropdown(choices=classes, value=label), count,
                seed_value, gr.Slider(value=trunc, visible=shows_truncation),
                generate(name, label, count, seed_value, trunc)]

    return links.LinkSpec("generate", controls, [out], restore)

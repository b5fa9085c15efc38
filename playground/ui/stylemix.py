"""Tab "Style mixing": the StyleGAN paper's mixing grid, a truncation strip and a latent walk."""

from __future__ import annotations

import os
import tempfile

import gradio as gr
import numpy as np

from .. import api
from ..images.convert import gif_bytes, grid
from ..seed import parse_seed_list
from . import links
from .common import for_display, model_dropdown, parse_seed, random_seed, user_errors

KINDS = (api.Kind.STYLE,)

CROSSOVERS = ("coarse", "middle", "fine", "layer range")
NOISE = {"on (fixed maps)": "const", "off": "none", "randomise": "random"}
PSIS = np.linspace(-1, 1, 9).round(2).tolist()


def _crossover(choice: str, start: float, stop: float):
    return (int(start), int(stop)) if choice == "layer range" else choice


def _layer_text(model_name: str) -> str:
    info = api.style_layers(model_name)
    groups = ", ".join(f"{k} = layers {lo}-{hi - 1}" for k, (lo, hi) in info["groups"].items() if hi > lo)
    res = " ".join(f"{i}:{r}²" for i, r in enumerate(info["resolutions"]))
    return f"{info['num_ws']} style layers (layer:resolution) {res}. {groups}."


@user_errors
def mix(model_name, rows, cols, crossover, start, stop, psi, noise):
    res = api.style_mix(model_name, parse_seed_list(rows, api.MAX_MIX_SEEDS), parse_seed_list(cols, api.MAX_MIX_SEEDS),
                        _crossover(crossover, start, stop), float(psi), NOISE[noise],
                        noise_seed=random_seed() if NOISE[noise] == "random" else 0)
    return for_display(res["grid"], min_px=640)


@user_errors
def strip(model_name, rows, noise):
    seed = parse_seed_list(rows, api.MAX_MIX_SEEDS)[0]
    images = api.truncation_strip(model_name, seed, PSIS, "none" if NOISE[noise] == "none" else "const")
    return for_display(grid(images, nrow=len(PSIS)), min_px=640)


@user_errors
def walk(model_name, seed_a, seed_b, psi):
    frames = api.latent_walk(model_name, parse_seed(seed_a), parse_seed(seed_b), frames=32, truncation=float(psi))
    fd, path = tempfile.mkstemp(prefix="latent-walk-", suffix=".gif")
    with os.fdopen(fd, "wb") as f:
        f.write(gif_bytes(frames, fps=12, scale=max(1, 256 // frames.shape[1])))
    return path


@user_errors
def on_model(model_name):
    num_ws = api.style_layers(model_name)["num_ws"]
    return (gr.Slider(maximum=num_ws), gr.Slider(maximum=num_ws, value=min(3, num_ws)), _layer_text(model_name))


def build(ctx) -> links.LinkSpec | None:
    if not ctx.models(KINDS):
        gr.Markdown("No StyleGAN model is installed yet: train one with "
                    "`python -m playground train stylegan --dataset fashion --ema 0.998 --out DIR`.")
        return
    gr.Markdown("Top row: source A; left column: source B. Each cell is B with A's styles on the "
                "chosen layers. Coarse layers (4², 8²) should carry the garment type and shape; fine "
                "layers only texture and shading.")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            model = model_dropdown(ctx, KINDS, "sm-model", "style_refresh_models")
            num_ws = api.style_layers(model.value)["num_ws"]
            rows = gr.Textbox("0-5", label="Top row seeds (source A)", info="list and ranges, e.g. 1,4,10-13",
                              elem_id="sm-rows")
            cols = gr.Textbox("10-15", label="Left column seeds (source B)", elem_id="sm-cols")
            crossover = gr.Radio(list(CROSSOVERS), value="coarse", label="A's styles on", elem_id="sm-crossover")
            layers = gr.Markdown(_layer_text(model.value))
            with gr.Row():
                start = gr.Slider(0, num_ws, value=0, step=1, label="Layer range: from", elem_id="sm-start")
                stop = gr.Slider(0, num_ws, value=min(3, num_ws), step=1, label="to (exclusive)", elem_id="sm-stop")
            psi = gr.Slider(-1, 1.5, value=1.0, step=0.05, label="Truncation ψ", info="1 = none; 0 = the mean image",
                            elem_id="sm-psi")
            noise = gr.Radio(list(NOISE), value="on (fixed maps)", label="Per-layer noise", elem_id="sm-noise")
        with gr.Column(scale=2):
            image = gr.Image(mix(model.value, "0-5", "10-15", "coarse", 0, 3, 1.0, "on (fixed maps)"),
                             label="Style-mixing grid", format="png", interactive=False, elem_id="sm-grid",
                             elem_classes=["pixelated"])
    strip_img = gr.Image(strip(model.value, "0-5", "on (fixed maps)"), label=f"Truncation strip for the first A seed: ψ = {PSIS[0]} → {PSIS[-1]}", format="png",
                         interactive=False, elem_id="sm-strip", elem_classes=["pixelated"])
    with gr.Row():
        seed_a = gr.Number(value=0, precision=0, minimum=0, label="Walk from seed", elem_id="sm-walk-a")
        seed_b = gr.Number(value=1, precision=0, minimum=0, label="to seed", elem_id="sm-walk-b")
        dice = gr.Button("🎲", scale=0, min_width=50)
        go = gr.Button("Animate latent walk", variant="primary", elem_id="sm-walk-go")
    walk_img = gr.Image(label="Latent walk (GIF, linear in W, there and back)", type="filepath",
                        interactive=False, elem_id="sm-walk", elem_classes=["pixelated"])

    inputs = [model, rows, cols, crossover, start, stop, psi, noise]
    gr.on([rows.submit, cols.submit, crossover.change, start.release, stop.release, psi.release, noise.change,
           model.change], ctx.guard(mix), inputs, image, api_name="style_mix")
    gr.on([rows.submit, noise.change, model.change], ctx.guard(strip), [model, rows, noise], strip_img,
          api_name="style_truncation_strip")
    go.click(ctx.guard(walk), [model, seed_a, seed_b, psi], walk_img, api_name="style_latent_walk")
    dice.click(random_seed, None, seed_b, api_name="style_random_seed")
    model.input(ctx.guard(on_model), model, [start, stop, layers], api_name="style_model")

    controls = {"model": model, "rows": rows, "cols": cols, "crossover": crossover, "start": start, "stop": stop,
                "psi": psi, "noise": noise}
    links.link_button("stylemix", controls)

    def restore(params: dict, owner: str) -> list:
        models, name = links.model_choice(ctx, KINDS, params, owner, model.value)
        layer_count = api.style_layers(name)["num_ws"]
        row_seeds, col_seeds = params.get("rows", "0-5"), params.get("cols", "10-15")
        cross = links.choice(params, "crossover", list(CROSSOVERS), "coarse")
        first = links.number(params, "start", 0, 0, layer_count, integer=True)
        last = links.number(params, "stop", min(3, layer_count), 0, layer_count, integer=True)
        trunc = links.number(params, "psi", 1.0, -1.0, 1.5)
        noise_mode = links.choice(params, "noise", list(NOISE), "on (fixed maps)")
        return [gr.Dropdown(choices=models, value=name), row_seeds, col_seeds, cross,
                gr.Slider(maximum=layer_count, value=first), gr.Slider(maximum=layer_count, value=last), trunc,
                noise_mode, mix(name, row_seeds, col_seeds, cross, first, last, trunc, noise_mode),
                strip(name, row_seeds, noise_mode)]

    return links.LinkSpec("stylemix", controls, [image, strip_img], restore)

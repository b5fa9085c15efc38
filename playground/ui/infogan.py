"""Tab "InfoGAN codes": a categorical selector, one slider per continuous code, a sweep grid."""

from __future__ import annotations

import gradio as gr

from .. import api
from ..errors import PlaygroundError
from ..images.convert import grid
from . import links
from .common import first_look, for_display, model_dropdown, parse_seed, random_seed, user_errors

KINDS = (api.Kind.CODES,)

MAX_CODES = 4


def _code_info(model_name: str) -> tuple[list[str], list[str]]:
    """Categorical choices ('code 3 ≈ 7') and continuous slider labels, from measured metrics."""
    model = api.load(model_name).require(KINDS, "the codes tab")
    res = model.meta.get("metrics", {}).get("code-acc", {})
    matching = res.get("matching", {})
    cats = [f"code {k}" + (f" ≈ {matching[f'code {k}']}" if f"code {k}" in matching else "")
            for k in range(model.num_classes)]
    effects = res.get("continuous_codes", {})
    labels = [f"c{i + 1}: " + effects.get(f"c{i + 1}", {}).get("label", "effect not measured yet")
              for i in range(model.G.n_cont)]
    return cats, labels


def _cat(choice: str) -> int:
    try:
        return int(str(choice).split()[1])
    except (IndexError, ValueError):
        raise PlaygroundError(f"invalid categorical code {choice!r}") from None


@user_errors
def single(model_name, cat_choice, seed, c1=0.0, c2=0.0, c3=0.0, c4=0.0):  # MAX_CODES sliders
    codes = (c1, c2, c3, c4)
    model = api.load(model_name)
    cont = [float(c) for c in codes[:model.G.n_cont]]
    img = api.sample(model_name, 1, parse_seed(seed), labels=[_cat(cat_choice)], code_cont=cont)
    return for_display(img[0])


@user_errors
def sweep(model_name, sweep_code, seed, c1=0.0, c2=0.0, c3=0.0, c4=0.0):
    codes = (c1, c2, c3, c4)
    model = api.load(model_name)
    cont = [float(c) for c in codes[:model.G.n_cont]]
    code = int(str(sweep_code).lstrip("c")) - 1
    images = api.code_sweep(model_name, parse_seed(seed), code, api.CODE_SWEEP_VALUES, code_cont=cont)
    return for_display(grid(images, nrow=len(api.CODE_SWEEP_VALUES)), min_px=600)


@user_errors
def on_model(model_name):
    cats, labels = _code_info(model_name)
    sliders = [gr.Slider(visible=i < len(labels), label=labels[i] if i < len(labels) else f"c{i + 1}")
               for i in range(MAX_CODES)]
    sweep_choices = [f"c{i + 1}" for i in range(len(labels))]
    return [gr.Dropdown(choices=cats, value=cats[0]), gr.Radio(choices=sweep_choices, value="c1"), *sliders]


def build(ctx) -> links.LinkSpec | None:
    if not ctx.models(KINDS):
        gr.Markdown("No InfoGAN model is installed yet: train one with "
                    "`python -m playground train infogan --dataset mnist5k --out DIR`.")
        return
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            model = model_dropdown(ctx, KINDS, "ig-model", "infogan_refresh_models")
            cats, labels = _code_info(model.value)
            cat = gr.Dropdown(cats, value=cats[0], label="Categorical code", elem_id="ig-cat")
            sliders = [gr.Slider(-2, 2, value=0, step=0.1, visible=i < len(labels),
                                 label=labels[i] if i < len(labels) else f"c{i + 1}",
                                 info="trained on [-1, 1]; beyond that is extrapolation",
                                 elem_id=f"ig-c{i + 1}") for i in range(MAX_CODES)]
            with gr.Row():
                seed = gr.Number(value=0, precision=0, label="Noise seed", minimum=0, elem_id="ig-seed")
                dice = gr.Button("🎲", scale=0, min_width=50)
        with gr.Column(scale=1):
            image = gr.Image(first_look(single, model.value, cats[0], 0), label="Sample", format="png", interactive=False, elem_id="ig-image",
                             elem_classes=["pixelated"])
    with gr.Row():
        which = gr.Radio([f"c{i + 1}" for i in range(len(labels))], value="c1", label="Sweep code",
                         elem_id="ig-sweep-code")
    sweep_img = gr.Image(first_look(sweep, model.value, "c1", 0), label="Sweep: rows = categorical code, columns = code value -2 → 2",
                         format="png", interactive=False, elem_id="ig-sweep", elem_classes=["pixelated"])

    inputs = [model, cat, seed, *sliders]
    sweep_inputs = [model, which, seed, *sliders]
    gr.on([*(s.release for s in sliders), cat.change, seed.change], ctx.guard(single), inputs, image,
          api_name="infogan_image")
    gr.on([which.change, seed.change], ctx.guard(sweep), sweep_inputs, sweep_img, api_name="infogan_sweep")
    dice.click(random_seed, None, seed, api_name="infogan_random_seed")
    model.input(ctx.guard(on_model), model, [cat, which, *sliders], api_name="infogan_model")

    controls = {"model": model, "code": cat, "seed": seed, **{f"c{i + 1}": s for i, s in enumerate(sliders)},
                "sweep": which}
    links.link_button("infogan", controls)

    def restore(params: dict, owner: str) -> list:
        models, name = links.model_choice(ctx, KINDS, params, owner, model.value)
        codes, code_labels = _code_info(name)
        code = links.choice(params, "code", codes)
        seed_value = links.number(params, "seed", 0, 0, api.MAX_SEED, integer=True)
        values = [links.number(params, f"c{i + 1}", 0.0, -2.0, 2.0) for i in range(MAX_CODES)]
        sweep_code = links.choice(params, "sweep", [f"c{i + 1}" for i in range(len(code_labels))], "c1")
        slider_updates = [gr.Slider(value=v, visible=i < len(code_labels),
                                    label=code_labels[i] if i < len(code_labels) else f"c{i + 1}")
                          for i, v in enumerate(values)]
        return [gr.Dropdown(choices=models, value=name), gr.Dropdown(choices=codes, value=code), seed_value,
                *slider_updates, gr.Radio(choices=[f"c{i + 1}" for i in range(len(code_labels))], value=sweep_code),
                single(name, code, seed_value, *values), sweep(name, sweep_code, seed_value, *values)]

    return links.LinkSpec("infogan", controls, [image, sweep_img], restore)

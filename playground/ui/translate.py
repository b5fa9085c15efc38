"""Tab "Domain translation": CycleGAN pairs, a gallery of held-out test images or an upload."""

from __future__ import annotations

import gradio as gr

from .. import api
from ..data import load_dataset
from ..errors import PlaygroundError
from . import links
from .common import first_look, for_display, model_dropdown, user_errors

GALLERY = 12
KINDS = (api.Kind.TRANSLATOR,)


def _test_images(model_name: str, direction: str):
    """The first held-out test images of the source domain, uint8 [N, H, W, C]."""
    model = api.load(model_name)
    cfg = model.meta["config"]
    src = cfg["domain_a"] if direction == "a2b" else cfg["domain_b"]
    ds = load_dataset(model.meta["dataset"].split(":")[0] + f":{src}", "test")
    return ds.images[:GALLERY].permute(0, 2, 3, 1).numpy()


def _gallery(model_name: str, direction: str) -> list:
    return [for_display(img, 112) for img in _test_images(model_name, direction)]


def _direction_choices(model_name: str) -> list[tuple[str, str]]:
    a, b = api.load(model_name).G.domain_names
    return [(f"{a} → {b}", "a2b"), (f"{b} → {a}", "b2a")]


@user_errors
def run(model_name, direction, image):
    if image is None:
        raise PlaygroundError("pick a test image from the gallery or upload one")
    res = api.translate(model_name, image, direction)
    note = f"**{res['source']} → {res['target']}** · input conversions: " + "; ".join(res["conversions"])
    return (for_display(res["input"], 224), for_display(res["translated"], 224),
            for_display(res["reconstructed"], 224), note)


@user_errors
def batch(model_name, direction):
    return for_display(api.translate_batch(model_name, direction, n=16), 600)


@user_errors
def on_change(model_name, direction):
    return gr.Radio(choices=_direction_choices(model_name), value=direction), _gallery(model_name, direction)


def build(ctx) -> links.LinkSpec | None:
    if not ctx.models(KINDS):
        gr.Markdown("No translation model installed: train one with "
                    "`python -m playground train cyclegan --dataset fashion:7,9 --out DIR`.")
        return
    with gr.Row():
        with gr.Column(scale=2):
            model = model_dropdown(ctx, KINDS, "tl-model", "translate_refresh_models", label="Pair")
        direction = gr.Radio(_direction_choices(model.value), value="a2b", label="Direction", elem_id="tl-direction")
    with gr.Row():
        with gr.Column(scale=1):
            gallery = gr.Gallery(_gallery(model.value, "a2b"), label="Held-out test images (click one)", columns=6,
                                 height=260, allow_preview=False, elem_id="tl-gallery")
            example = gr.Number(0, precision=0, label="held-out test image shown (0 = first)", interactive=False,
                                elem_id="tl-example")
            upload = gr.Image(label="…or upload any image", type="filepath", image_mode=None, sources=["upload"],
                              elem_id="tl-upload")
        with gr.Column(scale=2):
            with gr.Row():
                first = first_look(lambda m: run(m, "a2b", _test_images(m, "a2b")[0]), model.value,
                                   default=(None, None, None, ""))
                out_in = gr.Image(first[0], label="input (as the model sees it)", format="png", interactive=False,
                                  elem_classes=["pixelated"])
                out_tr = gr.Image(first[1], label="translated", format="png", interactive=False, elem_id="tl-translated",
                                  elem_classes=["pixelated"])
                out_rec = gr.Image(first[2], label="reconstructed", format="png", interactive=False, elem_classes=["pixelated"])
            note = gr.Markdown(first[3], elem_id="tl-note")
    with gr.Accordion("Batch view: 16 test images (rows: input, translated, reconstructed)", open=False):
        go_batch = gr.Button("Translate 16 test images")
        batch_img = gr.Image(format="png", interactive=False, elem_classes=["pixelated"], elem_id="tl-batch")

    def pick(model_name, direction, evt: gr.SelectData):
        return *run(model_name, direction, _test_images(model_name, direction)[evt.index]), evt.index

    gallery.select(ctx.guard(pick), [model, direction], [out_in, out_tr, out_rec, note, example],
                   api_name="translate_gallery_pick", api_visibility="private")
    upload.upload(ctx.guard(run), [model, direction, upload], [out_in, out_tr, out_rec, note], api_name="translate")
    go_batch.click(ctx.guard(batch), [model, direction], batch_img, api_name="translate_batch")
    gr.on([model.change, direction.change], ctx.guard(on_change), [model, direction], [direction, gallery],
          api_name="translate_options")

    controls = {"model": model, "direction": direction, "example": example}
    links.link_button("translate", controls)

    def restore(params: dict, owner: str) -> list:
        models, name = links.model_choice(ctx, KINDS, params, owner, model.value)
        way = links.choice(params, "direction", ["a2b", "b2a"], "a2b")
        index = links.number(params, "example", 0, 0, GALLERY - 1, integer=True)
        shown = run(name, way, _test_images(name, way)[index])
        return [gr.Dropdown(choices=models, value=name), gr.Radio(choices=_direction_choices(name), value=way), index,
                _gallery(name, way), *shown]

    return links.LinkSpec("translate", controls, [gallery, out_in, out_tr, out_rec, note], restore)

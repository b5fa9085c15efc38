"""Tab "Super-resolution": bicubic vs SRResNet vs SRGAN, and a check against ground truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import api
from ..data.photos import HELD_OUT_PHOTOS, skimage_photo
from ..errors import PlaygroundError
from ..images.convert import to_pil
from . import links
from .common import first_look, owner_of, save_png, user_errors

KINDS = (api.Kind.UPSCALER,)
CROP = "coffee-crop"
EXAMPLE_CHOICES = [("coffee, a 64x64 crop", CROP)] + [(name, name) for name in HELD_OUT_PHOTOS]


def _example_files() -> dict[str, str]:
    """The held-out photos as PNG files: uploads are read from a file path (header checked first)."""
    folder = Path(tempfile.gettempdir()) / "playground-examples"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in HELD_OUT_PHOTOS:
        path = folder / f"{name}.png"
        if not path.is_file():
            to_pil(skimage_photo(name)).save(path)
        out[name] = str(path)
    return out


def _example_crop() -> str:
    """A 64x64 crop of a held-out photo, as a file: what the tab shows upscaled on opening."""
    path = Path(tempfile.gettempdir()) / "playground-examples" / "coffee-crop64.png"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        to_pil(skimage_photo("coffee")[140:204, 250:314]).save(path)
    return str(path)


def build(ctx) -> links.LinkSpec | None:
    choices = ctx.model_choices(KINDS)
    if not choices:
        gr.Markdown("No super-resolution model installed: train one with "
                    "`python -m playground train srgan --dataset photos --out DIR`.")
        return
    examples = _example_files()

    @user_errors
    def upscale(image, chosen):
        if image is None:
            raise PlaygroundError("upload an image or pick an example first")
        if not chosen:
            raise PlaygroundError("choose at least one model")
        outs, notes = {}, []
        for name in chosen:
            res = api.upscale(name, image)
            outs[name] = res["sr"]
            notes = res["conversions"]
        bic = res["bicubic"]
        gallery = [(bic, "bicubic")] + [(img, n) for n, img in outs.items()]
        first = outs[chosen[0]]
        return (gallery, (bic, first), save_png(first, f"{chosen[0]}-"),
                "Input conversions: " + "; ".join(notes) + f" · output {first.shape[1]}x{first.shape[0]}")

    @user_errors
    def check(image, chosen):
        if image is None:
            raise PlaygroundError("upload an image or pick an example first")
        rows, gallery = [], []
        for name in chosen or []:
            res = api.check_against_ground_truth(name, image)
            m = res["metrics"]
            if not rows:
                rows.append(["bicubic", round(m["psnr_bicubic"], 2), round(m["ssim_bicubic"], 4)])
                gallery += [(res["hr"], "ground truth"), (res["bicubic"], "bicubic")]
            rows.append([name, round(m["psnr_model"], 2), round(m["ssim_model"], 4)])
            gallery.append((res["sr"], name))
        if not rows:
            raise PlaygroundError("choose at least one model")
        return pd.DataFrame(rows, columns=["method", "PSNR (dB, Y)", "SSIM (Y)"]), gallery

    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            image = gr.Image(label="Low-resolution input (upload)", type="filepath", image_mode=None,
                             sources=["upload"], elem_id="sr-input")
            gr.Examples([[examples[n]] for n in examples], inputs=image, label="Held-out photos (never trained on)")
            example = gr.Dropdown(EXAMPLE_CHOICES, value=CROP, elem_id="sr-example",
                                  label="…or upscale a held-out example (what a link to this view carries)")
            with gr.Row():
                chosen = gr.CheckboxGroup(choices, value=[v for _, v in choices], label="Models",
                                          elem_id="sr-models", scale=4)
                refresh = gr.Button("↻", scale=0, min_width=50, elem_id="sr-models-refresh")
            with gr.Row():
                go = gr.Button("Upscale ×4", variant="primary", elem_id="sr-go")
                go_check = gr.Button("Check against ground truth", elem_id="sr-check")
            gr.Markdown("*Check against ground truth* treats your image as the high-resolution truth: it "
                        "downsamples it ×4, upscales it back and reports PSNR/SSIM (Y channel, 4-px border shaved).")
        with gr.Column(scale=2):
            first = first_look(upscale, _example_crop(), [v for _, v in choices], default=(None, None, None, ""))
            slider = gr.ImageSlider(first[1], label="bicubic | model (drag)", type="numpy", elem_id="sr-slider")
            gallery = gr.Gallery(first[0], label="Side by side", columns=3, height=360, elem_id="sr-gallery")
            note = gr.Markdown(f"Example: a 64x64 crop of the held-out photo *coffee*. {first[3]}" if first[3] else "",
                               elem_id="sr-note")
            file = gr.File(first[2], label="Download the upscaled PNG", elem_id="sr-file")
            table = gr.Dataframe(label="Against ground truth", elem_id="sr-table")

    def refresh_list(current, request: gr.Request):
        return gr.CheckboxGroup(choices=ctx.model_choices(KINDS, owner_of(request)), value=current)

    refresh.click(refresh_list, chosen, chosen, api_name="upscale_refresh_models")

    def example_path(name: str) -> str:
        return _example_crop() if name == CROP else examples[name]

    def show_example(name, models):
        path = example_path(links.choice({"example": name}, "example", EXAMPLE_CHOICES))
        return path, *upscale(path, models)

    example.input(ctx.guard(show_example, 1), [example, chosen], [image, gallery, slider, file, note],
                  api_name="upscale_example")
    go.click(ctx.guard(upscale, 1), [image, chosen], [gallery, slider, file, note], api_name="upscale")
    go_check.click(ctx.guard(check, 1), [image, chosen], [table, gallery], api_name="upscale_check")

    controls = {"example": example, "models": chosen}
    links.link_button("superres", controls)

    def restore(params: dict, owner: str) -> list:
        available = [v for _, v in ctx.model_choices(KINDS, owner)]
        name = links.choice(params, "example", EXAMPLE_CHOICES, CROP)
        models = [m for m in params.get("models", ",".join(available)).split(",") if m]
        for m in models:
            if m not in available:
                raise PlaygroundError(f"model {m!r} is not one of the choices here")
            ctx.check_access(m, owner)
        return [name, gr.CheckboxGroup(choices=ctx.model_choices(KINDS, owner), value=models),
                *show_example(name, models)]

    return links.LinkSpec("superres", controls, [image, gallery, slider, file, note], restore)

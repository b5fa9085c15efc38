"""Tab "Text": TediGAN. A sentence -> images; an upload (or a seed) -> its inversion into W+;
an instruction with a strength -> the edited image, before and after."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .. import api
from ..errors import PlaygroundError
from ..images.convert import grid
from .common import first_look, for_display, model_dropdown, parse_seed, user_errors

KINDS = (api.Kind.TEXT,)
N_SAMPLES = 16
PROMPTS = ["a dark ankle boot", "a pale dress", "a wide pair of trousers", "a long coat", "a printed t-shirt",
           "a sandal", "a handbag", "a light pullover"]
INSTRUCTIONS = ["make it darker", "make it lighter", "make it wider", "make it longer",
                "turn it into an ankle boot", "turn it into a dress"]


@user_errors
def generate(model_name, prompt, seed, truncation):
    res = api.text_to_image_info(model_name, prompt, N_SAMPLES, parse_seed(seed), float(truncation))
    note = (f"**{res['prompt']}** · {N_SAMPLES} samples, seed {parse_seed(seed)} · mean image-text score "
            f"{res['score']:.3f} (matcher cosine) · prompt relevance {res['relevance']:.2f}")
    return for_display(grid(res["images"], nrow=8), 560), note


def _source(mode, seed, upload):
    if mode == "my image":
        if upload is None:
            raise PlaygroundError("upload an image first, or choose 'seed'")
        return upload
    return parse_seed(seed)


@user_errors
def invert(model_name, mode, seed, upload):
    src = _source(mode, seed, upload)
    if not isinstance(src, str):    # a seed: its image is already in W; show it as the original
        img = for_display(api.text_seed_image(model_name, src), 200)
        return img, img, f"seed {src}: a StyleGAN sample, already a point in W (nothing to invert)"
    res = api.invert(model_name, src)
    note = (f"PSNR {res['psnr_encoder']:.1f} dB from the encoder alone, **{res['psnr']:.1f} dB** after refinement · "
            "input: " + "; ".join(res["conversions"]))
    return for_display(res["input"], 200), for_display(res["reconstruction"], 200), note


@user_errors
def edit(model_name, mode, seed, upload, instruction, strength):
    res = api.edit(model_name, _source(mode, seed, upload), instruction, float(strength))
    note = (f"{res['source']} · edit on style layers {res['layers']} ({res['topic']}) · strength {res['strength']:g} · "
            f"image-text score {res['score_before']:.3f} → **{res['score_after']:.3f}** · classifier: "
            f"{res['class_before']} → {res['class_after']} · brightness {res['attributes_before']['shade']:.2f} → "
            f"{res['attributes_after']['shade']:.2f}")
    return for_display(res["before"], 200), for_display(res["after"], 200), note


def build(ctx) -> None:
    if not ctx.models(KINDS):
        gr.Markdown("No text-guided model installed: train one with "
                    "`python -m playground train tedigan --dataset fashion --out DIR`.")
        return
    gr.Markdown("TediGAN on Fashion-MNIST: a sentence lands in the StyleGAN's W space; your image is "
                "inverted into it; an instruction moves it. Words never seen in training often work through "
                "the sentence encoder (*bootie*, *overcoat*, *jeans*), some don't (*frock*, *tote*), and it "
                "confuses opposites it was not taught (*brighter* reads like *darker*): the model card has the "
                "measured figures.")
    model = model_dropdown(ctx, KINDS, "tx-model", "text_refresh_models", label="Model")
    with gr.Row():
        with gr.Column(scale=1):
            prompt = gr.Textbox(PROMPTS[0], label="Describe a garment", elem_id="tx-prompt")
            gr.Examples([[p] for p in PROMPTS], inputs=[prompt], label="Examples")
            with gr.Row():
                seed = gr.Number(0, precision=0, label="seed", elem_id="tx-seed")
                truncation = gr.Slider(0.0, 1.5, value=0.7, step=0.05, label="spread (truncation)",
                                       elem_id="tx-truncation")
            go = gr.Button("Generate", variant="primary", elem_id="tx-go")
        with gr.Column(scale=2):
            first = first_look(generate, model.value, PROMPTS[0], 0, 0.7, default=(None, ""))
            samples = gr.Image(first[0], label="samples", format="png", interactive=False,
                               elem_classes=["pixelated"], elem_id="tx-samples")
            note = gr.Markdown(first[1], elem_id="tx-note")
    gr.Markdown("### Project your own image, then edit it with a sentence")
    with gr.Row():
        with gr.Column(scale=1):
            mode = gr.Radio(["seed", "my image"], value="seed", label="start from", elem_id="tx-mode")
            src_seed = gr.Number(3, precision=0, label="seed", elem_id="tx-src-seed")
            upload = gr.Image(label="your image (any size; garments on a plain background work best)",
                              type="filepath", image_mode=None, sources=["upload"], elem_id="tx-upload")
            go_invert = gr.Button("Invert", elem_id="tx-invert")
        with gr.Column(scale=1):
            original = gr.Image(label="original (as the model sees it)", format="png", interactive=False,
                                elem_classes=["pixelated"])
            inverted = gr.Image(label="inversion", format="png", interactive=False, elem_classes=["pixelated"],
                                elem_id="tx-inverted")
            inv_note = gr.Markdown(elem_id="tx-inv-note")
    with gr.Row():
        with gr.Column(scale=1):
            instruction = gr.Textbox(INSTRUCTIONS[0], label="instruction", elem_id="tx-instruction")
            gr.Examples([[i] for i in INSTRUCTIONS], inputs=[instruction], label="Examples")
            strength = gr.Slider(0.0, 3.0, value=1.0, step=0.1, label="strength (0 = original, 1 = the optimum found)",
                                 elem_id="tx-strength")
            go_edit = gr.Button("Edit", variant="primary", elem_id="tx-edit")
        with gr.Column(scale=1):
            with gr.Row():
                before = gr.Image(label="before", format="png", interactive=False, elem_classes=["pixelated"])
                after = gr.Image(label="after", format="png", interactive=False, elem_classes=["pixelated"],
                                 elem_id="tx-after")
            edit_note = gr.Markdown(elem_id="tx-edit-note")

    gr.on([go.click, prompt.submit], ctx.guard(generate), [model, prompt, seed, truncation], [samples, note],
          api_name="text_to_image")
    go_invert.click(ctx.guard(invert), [model, mode, src_seed, upload], [original, inverted, inv_note],
                    api_name="text_invert")
    gr.on([go_edit.click, instruction.submit], ctx.guard(edit),
          [model, mode, src_seed, upload, instruction, strength], [before, after, edit_note], api_name="text_edit")
    upload.upload(lambda: "my image", None, mode, api_visibility="private")

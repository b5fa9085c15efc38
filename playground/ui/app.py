"""The Blocks shell: a header, then one tab per capability. Tabs plug in via TABS."""

from __future__ import annotations

import gradio as gr

from . import evaluate, generate, infogan, learn, stylemix, superres, text, train, translate
from .context import AppContext
from .links import restore_on_load
from .refusals import check_inputs

CSS = """
.pixelated img { image-rendering: pixelated; }
footer { display: none !important; }
/* the loss plot's legend sits below the chart; Gradio clips it unless its boxes may overflow */
#tr-plot, #tr-plot .wrap, #tr-plot svg { overflow: visible !important; }
#tr-plot { margin-bottom: 72px; }
"""

# (title, key, build): the key is the tab's id and its `?tab=` value in links that reopen a view;
# a build that supports such links returns its links.LinkSpec
TABS = (
    ("Conditional generation", "generate", generate.build),
    ("Learn", "learn", learn.build),
    ("InfoGAN codes", "infogan", infogan.build),
    ("Style mixing", "stylemix", stylemix.build),
    ("Domain translation", "translate", translate.build),
    ("Super-resolution", "superres", superres.build),
    ("Text", "text", text.build),
    ("Train", "train", train.build),
    ("Evaluate", "evaluate", evaluate.build),
)


def build_app(runs_dir: str | None = None) -> gr.Blocks:
    """The whole app. `runs_dir` holds this server's training runs (default runs/ui)."""
    ctx = AppContext.create(runs_dir)
    # delete_cache: Gradio's copies of uploads and outputs older than 30 min go every 10 min
    with gr.Blocks(title="GAN Playground", delete_cache=(600, 1800)) as demo:
        gr.Markdown("# GAN Playground\nGenerate, explore and train GANs. Every model here was trained "
                    "by this project's own `python -m playground train` command; its card has the "
                    "command and measured metrics.")
        specs = []
        with gr.Tabs() as tabs:
            for title, key, build in TABS:
                with gr.Tab(title, id=key):
                    if pointer := learn.pointer(key):
                        gr.Markdown(pointer, elem_classes=["lesson-pointer"])
                    spec = build(ctx)
                if spec is not None:
                    assert spec.key == key, f"tab {title!r} makes links for {spec.key!r}"
                    specs.append(spec)
        restore_on_load(demo, tabs, specs, ctx.pin_threads, tuple(key for _, key, _ in TABS))
    check_inputs(demo)
    return demo


def launch_kwargs() -> dict:
    return {"theme": gr.themes.Soft(), "css": CSS, "max_file_size": "20mb"}

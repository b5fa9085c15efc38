"""The Blocks shell: a header, then one tab per capability. Tabs plug in via TABS."""

from __future__ import annotations

import gradio as gr

from . import evaluate, generate, infogan, stylemix, superres, train, translate
from .context import AppContext

CSS = """
.pixelated img { image-rendering: pixelated; }
footer { display: none !important; }
/* the loss plot's legend sits below the chart; Gradio clips it unless its boxes may overflow */
#tr-plot, #tr-plot .wrap, #tr-plot svg { overflow: visible !important; }
#tr-plot { margin-bottom: 72px; }
"""

TABS = (
    ("Conditional generation", generate.build),
    ("InfoGAN codes", infogan.build),
    ("Style mixing", stylemix.build),
    ("Domain translation", translate.build),
    ("Super-resolution", superres.build),
    ("Train", train.build),
    ("Evaluate", evaluate.build),
)


def build_app(runs_dir: str | None = None) -> gr.Blocks:
    """The whole app. `runs_dir` holds this server's training runs (default runs/ui)."""
    ctx = AppContext.create(runs_dir)
    # delete_cache: Gradio's copies of uploads and outputs older than 30 min go every 10 min
    with gr.Blocks(title="GAN Playground", delete_cache=(600, 1800)) as demo:
        gr.Markdown("# GAN Playground\nGenerate, explore and train GANs. Every model here was trained "
                    "by this project's own `python -m playground train` command; its card has the "
                    "command and measured metrics.")
        with gr.Tabs():
            for title, build in TABS:
                with gr.Tab(title):
                    build(ctx)
    return demo


def launch_kwargs() -> dict:
    return {"theme": gr.themes.Soft(), "css": CSS, "max_file_size": "20mb"}

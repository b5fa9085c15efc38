"""The 2-D GAN lab view: real vs generated points, D's decision surface, G's gradient field."""

from __future__ import annotations

import functools
import io

import gradio as gr
import numpy as np

from ..capabilities import lab2d
from ..data import toy2d
from .common import first_look, parse_seed, user_errors, whole_number

MAX_LAB_STEPS = 5000           # the steps slider's top: a run streams a frame every steps/40


def render(frame: lab2d.Frame) -> np.ndarray:
    """One frame as an RGB uint8 image (matplotlib, Agg backend, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 5.2), dpi=90)
    ax = fig.add_subplot(111)
    b = lab2d.BOUND
    ax.imshow(frame.surface, extent=(-b, b, -b, b), origin="lower", cmap="RdBu_r", alpha=0.55)
    pos, vec = frame.arrows
    norm = np.linalg.norm(vec, axis=1, keepdims=True).max() + 1e-12
    ax.quiver(pos[:, 0], pos[:, 1], vec[:, 0] / norm, vec[:, 1] / norm, color="#333", alpha=0.6, width=0.004)
    ax.scatter(frame.real[:, 0], frame.real[:, 1], s=3, c="#16a34a", label="real")
    ax.scatter(frame.fake[:, 0], frame.fake[:, 1], s=3, c="#dc2626", label="generated")
    ax.set_xlim(-b, b)
    ax.set_ylim(-b, b)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"step {frame.step}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    from PIL import Image

    return np.asarray(Image.open(buf).convert("RGB"))


def describe(frame: lab2d.Frame) -> str:
    cov = frame.coverage
    parts = [f"step {frame.step}"]
    if cov:
        parts.append(f"modes covered **{cov['modes_covered']}/{cov['modes_total']}**")
        parts.append(f"high-quality samples (within 3σ of a mode) **{100 * cov['high_quality']:.0f}%**")
    parts += [f"{k} {v:.3f}" for k, v in frame.scalars.items()]
    return " · ".join(parts) + "".join(f"\n\n**Diagnosis:** {m}" for m in frame.diagnoses)


@user_errors
def train_lab(dataset, loss, steps, seed):
    steps = whole_number(steps, "steps", 1, MAX_LAB_STEPS)
    cfg = lab2d.LabConfig(dataset=dataset, loss=loss, steps=steps, seed=parse_seed(seed),
                          frame_every=max(25, steps // 40))
    for frame in lab2d.run(cfg):
        yield render(frame), describe(frame)


@functools.lru_cache(maxsize=1)
def _first_view():
    """What the lab shows on opening: 300 steps of the default settings (ring, non-saturating).
    A few seconds of CPU, so it is made when the first visitor opens the lab (not at start-up),
    then served from this cache to everyone."""
    frames = list(lab2d.run(lab2d.LabConfig(dataset="ring", loss="non-saturating", steps=300, seed=0,
                                            frame_every=300)))
    return render(frames[-1]), describe(frames[-1]) + " · (press Train for a full run)"


def on_open(current):
    """Opening the lab shows the cached short run, unless the view already shows something."""
    return first_look(_first_view, default=(None, "")) if current is None else (gr.skip(), gr.skip())


def build() -> tuple:
    gr.Markdown("Tiny MLP GANs on 2-D data. Green: real; red: generated; colour: the discriminator's "
                "score; arrows: where the generator's loss pushes a sample. Try *non-saturating* vs "
                "*wgan-gp* on the ring: the first collapses onto few modes, the second covers all 8.")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            dataset = gr.Dropdown(list(toy2d.STD), value="ring", label="Data", elem_id="lab-data")
            loss = gr.Dropdown(list(lab2d.LOSSES), value="non-saturating", label="Loss", elem_id="lab-loss")
            steps = gr.Slider(100, MAX_LAB_STEPS, value=1500, step=100, label="steps")
            seed = gr.Number(0, precision=0, label="seed", minimum=0)
            with gr.Row():
                go = gr.Button("Train", variant="primary", elem_id="lab-go")
                stop = gr.Button("Stop", variant="stop")
        with gr.Column(scale=2):
            view = gr.Image(label="Live view", format="png", interactive=False, elem_id="lab-view")
            info = gr.Markdown(elem_id="lab-info")
    ev = go.click(train_lab, [dataset, loss, steps, seed], [view, info], api_name="lab_train")
    stop.click(None, None, None, cancels=[ev], api_name=False)
    return view, info, {"lab_data": dataset, "lab_loss": loss}

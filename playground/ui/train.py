"""Tab "Train": start a background run, watch losses and samples, stop/resume, take it home.

The run lives in the server's JobManager; this tab only polls its snapshot with a gr.Timer, so
closing the browser does not stop training and reopening the page shows it still going.
"""

from __future__ import annotations

import dataclasses

import gradio as gr
import pandas as pd

from .. import api
from ..errors import PlaygroundError
from ..registry import get_family
from . import lab
from .common import for_display, parse_seed, user_errors

UPLOAD = "uploaded zip of images"
DATASETS = [("mnist5k (offline digits)", "mnist5k"), ("fashion", "fashion"),
            ("fashion sneakers + ankle boots (for cyclegan)", "fashion:7,9"),
            ("photos (for srgan)", "photos"), (UPLOAD, UPLOAD)]
HYPER = ("lr", "beta1", "beta2", "n_critic", "clip", "gp_weight")   # shown when the family has them


def family_defaults(family: str) -> dict:
    cfg = dataclasses.asdict(get_family(family).Config())
    if "lr" not in cfg and "lr_G" in cfg:  # InfoGAN has two learning rates; the box sets G's
        cfg["lr"] = cfg["lr_G"]
    return cfg


def loss_choices(family: str) -> list[str]:
    fam = get_family(family)
    return list(getattr(fam, "LOSSES", ("ns", "minimax", "hinge"))) if "loss" in family_defaults(family) else []


@user_errors
def on_family(family: str):
    d = family_defaults(family)
    losses = loss_choices(family)
    upd = [gr.Dropdown(choices=losses or ["(fixed by the family)"], value=losses[0] if losses else "(fixed by the family)",
                       interactive=bool(losses))]
    for key in HYPER:
        upd.append(gr.Number(value=d.get(key), visible=key in d))
    return upd


def _overrides(family: str, loss, values: dict) -> dict:
    d = family_defaults(family)
    out = {}
    if "loss" in d and loss in loss_choices(family):
        out["loss"] = loss
    for key, value in values.items():
        if key in d and value is not None and key in dataclasses.asdict(get_family(family).Config()):
            out[key] = value
        elif key == "lr" and value is not None and "lr_G" in d:
            out["lr_G"] = value
    return out


def _spec(ctx, family, dataset, upload, loss, lr, beta1, beta2, n_critic, clip, gp_weight, batch, steps,
          ema, seed, device, augment) -> api.TrainSpec:
    if dataset == UPLOAD:
        if not upload:
            raise PlaygroundError("choose a zip of images to upload first (class sub-folders become labels)")
        dataset = "folder:" + str(api.extract_image_zip(upload, ctx.runs_dir.parent / "uploads"))
    values = {"lr": lr, "beta1": beta1, "beta2": beta2, "n_critic": int(n_critic or 1), "clip": clip,
              "gp_weight": gp_weight}
    return api.TrainSpec(family=family, dataset=dataset, steps=int(steps), batch_size=int(batch),
                         seed=parse_seed(seed), device=None if device == "auto" else device,
                         overrides=_overrides(family, loss, values), ema=float(ema or 0),
                         augment="translation,cutout" if augment else "", log_every=10, sample_every=50,
                         ckpt_every=500, command=f"(web UI) train {family} on {dataset}")


def _plot(history: list) -> pd.DataFrame:
    """Long format for gr.LinePlot: one row per (step, series)."""
    if not history:
        return pd.DataFrame({"step": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64"),
                             "series": pd.Series(dtype="str")})
    df = pd.DataFrame(history).rename(columns={"name": "series"})
    return df[["step", "value", "series"]]


def _progress(snap: dict | None) -> str:
    if snap is None:
        return "No run yet. Pick a family and press **Start**."
    pct = 100 * snap["step"] / max(snap["total"], 1)
    eta = snap["eta_s"]
    eta_txt = f"{int(eta // 60)} min {int(eta % 60)} s" if snap["status"] == "running" else "-"
    bar = (f"<div style='background:#e5e7eb;border-radius:6px;height:14px'><div style='width:{pct:.1f}%;"
           f"background:#6366f1;height:14px;border-radius:6px'></div></div>")
    err = f"\n\n**Error:** {snap['error']}" if snap["error"] else ""
    return (f"{bar}\n\n**{snap['status']}** · run `{snap['id']}` · {snap['family']} on {snap['dataset']} · "
            f"step {snap['step']}/{snap['total']} · {snap['img_per_s']:.0f} img/s · ETA {eta_txt}{err}")


def build(ctx) -> None:
    with gr.Tabs():
        with gr.Tab("Image GANs"):
            _build_image(ctx)
        with gr.Tab("2-D GAN lab"):
            lab.build()


def _build_image(ctx) -> None:
    families = [f for f in api.list_families()]
    first = "cgan"
    d = family_defaults(first)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            family = gr.Dropdown(families, value=first, label="Family", elem_id="tr-family")
            dataset = gr.Dropdown(DATASETS, value="mnist5k", label="Dataset", elem_id="tr-dataset")
            upload = gr.File(label="Zip of images (for 'uploaded zip')", file_types=[".zip"], type="filepath")
            loss = gr.Dropdown(loss_choices(first), value=loss_choices(first)[0], label="Loss")
            with gr.Row():
                lr = gr.Number(d.get("lr"), label="learning rate")
                beta1 = gr.Number(d.get("beta1"), label="Adam β1")
                beta2 = gr.Number(d.get("beta2"), label="Adam β2")
            with gr.Row():
                n_critic = gr.Number(d.get("n_critic", 1), label="n_critic", precision=0, visible="n_critic" in d)
                clip = gr.Number(d.get("clip"), label="clip c", visible="clip" in d)
                gp = gr.Number(d.get("gp_weight"), label="GP λ", visible="gp_weight" in d)
            with gr.Row():
                batch = gr.Slider(8, ctx.jobs.limits.max_batch, value=64, step=8, label="batch size")
                steps = gr.Number(2000, label="steps", precision=0, minimum=1, maximum=ctx.jobs.limits.max_steps,
                                  elem_id="tr-steps")
            with gr.Row():
                ema = gr.Number(0.0, label="EMA decay (0 = off; 0.999 smooths long runs)")
                seed = gr.Number(0, label="seed", precision=0, minimum=0)
            with gr.Row():
                device = gr.Radio(["auto", "cpu", "cuda"], value="auto", label="device")
                augment = gr.Checkbox(False, label="DiffAugment")
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="tr-start")
                stop = gr.Button("Stop", variant="stop", elem_id="tr-stop")
                resume = gr.Button("Resume", elem_id="tr-resume")
        with gr.Column(scale=2):
            progress = gr.Markdown(_progress(ctx.jobs.status()), elem_id="tr-progress")
            # start with None and never send an empty DataFrame: once a LinePlot has shown an empty
            # frame it draws no lines on later updates (seen with Gradio 6.31)
            plot = gr.LinePlot(None, x="step", y="value", color="series", label="Losses",
                               height=380, elem_id="tr-plot")
            grid = gr.Image(label="Samples from fixed seeds", format="png", interactive=False,
                            elem_id="tr-grid", elem_classes=["pixelated"])
            with gr.Accordion("Use what you trained", open=False):
                gr.Markdown("Finished and stopped runs appear in the other tabs' model lists (press ↻). "
                            "TensorBoard: `tensorboard --logdir runs/tb`.")
                with gr.Row():
                    download_btn = gr.Button("Download latest run (.zip)")
                    download = gr.File(label="Run zip", elem_id="tr-download")
                with gr.Row():
                    upload_run = gr.File(label="Upload a run zip", file_types=[".zip"], type="filepath")
                    upload_msg = gr.Markdown()
    timer = gr.Timer(1.0)

    settings = [family, dataset, upload, loss, lr, beta1, beta2, n_critic, clip, gp, batch, steps, ema, seed,
                device, augment]

    @user_errors
    def do_start(*values):
        run_id = ctx.jobs.start(_spec(ctx, *values))
        return _progress(ctx.jobs.status(run_id))

    @user_errors
    def do_resume(*values):
        snap = ctx.jobs.status()
        if snap is None:
            raise PlaygroundError("nothing to resume yet: start a run first")
        spec = _spec(ctx, *values)
        spec = dataclasses.replace(spec, family=snap["family"], dataset=ctx.jobs.get(snap["id"]).spec.dataset,
                                   overrides={})
        if spec.steps <= snap["step"]:
            raise PlaygroundError(f"set steps above {snap['step']} to resume (it is the new total)")
        ctx.jobs.start(spec, resume_id=snap["id"])
        return _progress(ctx.jobs.status(snap["id"]))

    @user_errors
    def do_stop():
        snap = ctx.jobs.status()
        if snap is None or snap["status"] not in ("starting", "running"):
            raise PlaygroundError("no run is going")
        ctx.jobs.stop(snap["id"])
        return _progress(ctx.jobs.status(snap["id"]))

    def poll(seen: tuple):
        """Only send what changed since this browser's last tick (plot rows, grid step)."""
        snap = ctx.jobs.status()
        if snap is None:
            return _progress(None), gr.skip(), gr.skip(), seen
        key = (snap["id"], len(snap["history"]), snap["grid_step"])
        if tuple(seen or ()) == key:
            return _progress(snap), gr.skip(), gr.skip(), seen
        img = for_display(snap["grid"], min_px=400) if snap["grid"] is not None else gr.skip()
        plot = _plot(snap["history"]) if snap["history"] else gr.skip()  # never send an empty frame
        return _progress(snap), plot, img, key

    @user_errors
    def do_download():
        snap = ctx.jobs.status()
        if snap is None or snap["status"] in ("starting", "running", "stopping"):
            raise PlaygroundError("stop or finish a run before downloading it")
        return str(api.export_run(snap["out"]))

    @user_errors
    def do_upload(path):
        if not path:
            return ""
        dest = api.import_run(path, ctx.runs_dir)
        return f"Installed as `{dest}`: pick it in the generation tab (press ↻)."

    family.change(on_family, family, [loss, lr, beta1, beta2, n_critic, clip, gp], api_name="train_family_defaults")
    start.click(do_start, settings, progress, api_name="train_start")
    stop.click(do_stop, None, progress, api_name="train_stop")
    resume.click(do_resume, settings, progress, api_name="train_resume")
    seen = gr.State(())
    timer.tick(poll, seen, [progress, plot, grid, seen], api_visibility="private", show_progress="hidden")
    gr.Button("Refresh status", size="sm").click(lambda: poll(())[:3], None, [progress, plot, grid],
                                                 api_name="train_status")
    download_btn.click(do_download, None, download, api_name="train_download")
    upload_run.upload(do_upload, upload_run, upload_msg, api_name="train_upload_run")

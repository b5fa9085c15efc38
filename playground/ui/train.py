"""Tab "Train": start a background run, watch losses and samples, stop/resume, take it home.

The run lives in the server's JobManager; this tab only polls its snapshot with a gr.Timer, so
closing the browser does not stop training and reopening the page shows it still going.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .. import api
from ..errors import PlaygroundError
from ..server.access import latest_owned, set_shared
from ..server.runs_io import export_zip, import_zip
from ..server.starting import UPLOADED, resume_run, start_run
from ..server.storage import OutputFolder
from . import lab, links
from .common import for_display, owner_of, parse_seed, user_errors, whole_number
from .zerogpu import on_zerogpu

DATASETS = [("mnist5k (offline digits)", "mnist5k"), ("fashion", "fashion"),
            ("fashion sneakers + ankle boots (for cyclegan)", "fashion:7,9"),
            ("photos (for srgan)", "photos"), (UPLOADED, UPLOADED)]
UI_EMA_RAMPUP = 0.05                 # browser runs are short: the average follows G early on (stylegan2-ada)
# what /train_start and /train_resume take besides the family settings, and what each one is
RUN_FIELDS = {
    "batch_size": "global batch size",
    "steps": "total steps (for resume: the new total)",
    "ema": "EMA decay of G (0 = off)",
    "seed": "the run's seed (weights, data order and noise)",
    "device": "auto, cpu or cuda",
    "augment": "DiffAugment (translation, cutout)",
    "processes": "local training processes (one per GPU)",
}


# what an API caller gets for a field it leaves out (a family setting left out keeps the family's default)
FORM_DEFAULTS = {"batch_size": 64, "steps": 2000, "ema": 0.0, "seed": 0, "device": "auto", "augment": False,
                 "processes": 1}


def tab_settings() -> dict[str, dict]:
    """name -> schema row of every setting some family offers in this tab (the first family's row),
    grouped as the schema groups them (the loss first, then the optimiser, the schedule, ...)."""
    rows = {}
    for family in api.list_families():
        for row in api.family_setting_table(family):
            if row["tab"]:
                rows.setdefault(row["name"], row)
    groups = api.setting_groups()
    return dict(sorted(rows.items(), key=lambda kv: groups.index(kv[1]["group"])))


def family_defaults(family: str) -> dict[str, dict]:
    """name -> schema row of the settings this family offers in this tab."""
    return {row["name"]: row for row in api.family_setting_table(family) if row["tab"]}


def form_fields() -> tuple[str, ...]:
    """The Train form's inputs, by name, in the order its handlers (and /train_start) take them."""
    return ("family", "dataset", "upload", *tab_settings(), *RUN_FIELDS)


@dataclass(frozen=True)
class TrainForm:
    """What the Train tab's Start and Resume send: the run's own fields and the family settings."""

    family: str
    dataset: str
    upload: str | None
    settings: dict                   # setting name -> the control's value (hidden ones included)
    batch_size: float
    steps: float
    ema: float
    seed: float
    device: str
    augment: bool
    processes: float = 1

    @classmethod
    def from_values(cls, values: dict) -> "TrainForm":
        names = tab_settings()
        return cls(settings={k: v for k, v in values.items() if k in names},
                   **{k: v for k, v in values.items() if k not in names})


def form_handler(fn, doc: str):
    """A Gradio handler that takes the form's fields by name (so the API documents each one) and
    gives `fn(form, request)` one TrainForm."""
    names = form_fields()

    def handler(*args):
        *values, request = args
        return fn(TrainForm.from_values(dict(zip(names, values))), request)

    P = inspect.Parameter
    params = [P(n, P.POSITIONAL_OR_KEYWORD, **({} if n in ("family", "dataset") else {"default": FORM_DEFAULTS.get(n)}))
              for n in names]
    handler.__signature__ = inspect.Signature(params + [P("request", P.POSITIONAL_OR_KEYWORD, default=None)])
    handler.__annotations__ = {"request": gr.Request}
    rows = tab_settings()
    described = {"family": "the GAN family", "dataset": "the data (or 'uploaded zip of images')",
                 "upload": "a zip of images, for the uploaded dataset", **RUN_FIELDS,
                 **{k: f"{r['label']}: {r['help']} (hidden, and ignored, for families without it)"
                    for k, r in rows.items()}}
    handler.__doc__ = doc + "\n\nArgs:\n" + "\n".join(f"    {n}: {described[n]}" for n in names)
    handler.__name__ = fn.__name__
    return handler


@user_errors
def on_family(family: str):
    """Each settings control shows this family's default (hidden where the family has no such setting)."""
    mine = family_defaults(family)
    return [_control(name, first, mine) for name, first in tab_settings().items()]


def _control(name: str, first: dict, mine: dict, **build):
    """The control for setting `name` as family `mine` shows it: a dropdown for a setting with
    choices (the loss), a number otherwise; `build` adds what only the first build sets (ids, ranges)."""
    row, present = mine.get(name, first), name in mine
    if row["choices"]:
        choices = row["choices"] if present else ["(fixed by the family)"]
        return gr.Dropdown(choices=choices, value=row["default"] if present else choices[0], interactive=present,
                           label=row["label"], info=row["help"], **build)
    return gr.Number(value=row["default"] if present else None, visible=present, label=row["label"],
                     info=row["help"], **build)


def _overrides(family: str, values: dict) -> dict:
    """The family's settings from the controls, typed by its schema (the validator checks bounds)."""
    mine = family_defaults(family)
    out = {}
    for key, value in values.items():
        row = mine.get(key)
        if row is None or value is None or value == "":
            continue
        if row["choices"]:
            if value in row["choices"]:
                out[key] = value
            continue
        if key == "lr_D" and not value:                   # 0 / empty: D learns at its family's default rate
            continue
        x = _number(value, row["label"])
        if row["integer"]:
            if x != int(x):
                raise PlaygroundError(f"{row['label']} must be a whole number, got {value!r}")
            x = int(x)
        out[key] = x
    return out


def _number(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PlaygroundError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise PlaygroundError(f"{what} must be a finite number, got {value!r}")
    return x


def _device(choice: str) -> str | None:
    """On ZeroGPU a GPU is lent per call, for a minute or two; a training run outlives any call,
    so it runs on the CPU there (see zerogpu.py)."""
    if on_zerogpu():
        return "cpu"
    return None if choice == "auto" else choice


def _spec(form: TrainForm) -> api.TrainSpec:
    """The run as asked for; an uploaded zip is *not* unpacked here (server/starting.py does that)."""
    ema = _number(form.ema or 0, "EMA decay")
    if not 0 <= ema < 1:
        raise PlaygroundError(f"EMA decay must be in [0, 1) (0 = off), got {ema}")
    return api.TrainSpec(family=form.family, dataset=form.dataset, steps=whole_number(form.steps, "steps", 1),
                         batch_size=whole_number(form.batch_size, "batch size", 1), seed=parse_seed(form.seed),
                         device=_device(form.device),
                         overrides=_overrides(form.family, form.settings), ema=ema, ema_rampup=UI_EMA_RAMPUP,
                         augment="translation,cutout" if form.augment else "", log_every=10, sample_every=50,
                         ckpt_every=500, command=f"(web UI) train {form.family} on {form.dataset}")


def _plot(history: list) -> pd.DataFrame:
    """Long format for gr.LinePlot: one row per (step, series)."""
    if not history:
        return pd.DataFrame({"step": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64"),
                             "series": pd.Series(dtype="str")})
    df = pd.DataFrame(history).rename(columns={"name": "series"})
    return df[["step", "value", "series"]]


def _timeline(timeline: list) -> pd.DataFrame | None:
    """A growing run's path (ProGAN): `level` climbs 0 (4x4) .. log2(R/4) (RxR), each ramp a
    fade-in; `alpha` is the fade weight. None when the run has no schedule."""
    if not timeline:
        return None
    df = pd.DataFrame(timeline).pivot_table(index="step", columns="name", values="value").reset_index()
    if not {"resolution", "alpha"} <= set(df.columns):
        return None
    level = (df["resolution"] / 4).map(math.log2)
    level = level.where(df["resolution"] <= 4, level - 1 + df["alpha"])
    rows = [df[["step"]].assign(value=level, series="level (0 = 4x4, +1 per doubling)"),
            df[["step"]].assign(value=df["alpha"], series="alpha (fade-in)")]
    return pd.concat(rows, ignore_index=True)


def _health_text(health: dict) -> str:
    """The latest health signals in one line (engine/health.py says what each one is)."""
    parts = []
    if "D_acc_fake" in health:
        parts.append(f"D accuracy: real {health['D_acc_real']:.2f}, fake {health['D_acc_fake']:.2f}")
    if "G_grad_minimax" in health:
        parts.append(f"G's gradient on fakes: non-saturating {health['G_grad_ns']:.3f} vs minimax "
                     f"{health['G_grad_minimax']:.3f}")
    norms = [f"{k[len('grad_norm_'):]} {v:.3g}" for k, v in health.items() if k.startswith("grad_norm_")]
    if norms:
        parts.append("gradient norms: " + ", ".join(norms))
    if "classes" in health:
        parts.append(f"samples cover {int(health['classes'])} classes (as many real images: "
                     f"{int(health['classes_real'])}), diversity {health['diversity']:.1f} (real "
                     f"{health['diversity_real']:.1f})")
    return ("\n\nHealth · " + " · ".join(parts)) if parts else ""


def _diagnoses_text(diagnoses: list) -> str:
    out = []
    for d in diagnoses:
        section, why = api.diagnosis_explanation(d["topic"])
        out.append(f"\n\n**Diagnosis (step {d['step']:,}):** {d['message']}\n\n> *The notes, {section}:* {why}")
    return "".join(out)


def _phase_text(phase: dict) -> str:
    if "resolution" not in phase:
        return ""
    r = int(phase["resolution"])
    return f" · resolution {r}×{r} · α {phase.get('alpha', 1.0):.2f}"


def _progress(snap: dict | None, others: list | None = None) -> str:
    if snap is None:
        busy = "".join(f"\n\nAnother visitor's run is training ({r.spec.family} on {r.spec.dataset}, step "
                       f"{r.step}/{r.total}); a new run can start when it ends." for r in (others or []))
        return "No run of yours yet. Pick a family and press **Start**." + busy
    pct = 100 * snap["step"] / max(snap["total"], 1)
    eta = snap["eta_s"]
    eta_txt = f"{int(eta // 60)} min {int(eta % 60)} s" if snap["status"] == "running" else "-"
    bar = (f"<div style='background:#e5e7eb;border-radius:6px;height:14px'><div style='width:{pct:.1f}%;"
           f"background:#6366f1;height:14px;border-radius:6px'></div></div>")
    err = f"\n\n**Error:** {snap['error']}" if snap["error"] else ""
    procs = f" · {snap['processes']} processes" if snap.get("processes", 1) > 1 else ""
    return (f"{bar}\n\n**{snap['status']}** · run `{snap['id']}` · {snap['family']} on {snap['dataset']}{procs} · "
            f"step {snap['step']}/{snap['total']}{_phase_text(snap.get('phase', {}))} · "
            f"{snap['img_per_s']:.0f} img/s · ETA {eta_txt}{err}"
            f"{_health_text(snap.get('health', {}))}{_diagnoses_text(snap.get('diagnoses', []))}")


def build(ctx) -> links.LinkSpec:
    """The Train tab; a link `?tab=train&family=wgan-gp&dataset=fashion&steps=500` opens it with
    those controls, and `?tab=train&lab_loss=minimax&lab_data=ring` opens its 2-D lab so set."""
    with gr.Tabs() as inner:
        with gr.Tab("Image GANs", id="image"):
            image_controls = _build_image(ctx)
        with gr.Tab("2-D GAN lab", id="lab") as lab_tab:
            view, info, lab_controls = lab.build()
        lab_tab.select(lab.on_open, view, [view, info], api_name="lab_first_view")
    controls = {**image_controls, **lab_controls}

    def restore(params: dict, owner: str) -> list:
        c = controls
        return [links.choice(params, "family", c["family"].choices, c["family"].value),
                links.choice(params, "dataset", c["dataset"].choices, c["dataset"].value),
                links.number(params, "steps", c["steps"].value, 1, ctx.jobs.limits.max_steps, integer=True),
                links.choice(params, "lab_data", c["lab_data"].choices, c["lab_data"].value),
                links.choice(params, "lab_loss", c["lab_loss"].choices, c["lab_loss"].value),
                gr.Tabs(selected="lab" if {"lab_data", "lab_loss"} & set(params) else "image")]

    return links.LinkSpec("train", controls, [inner], restore)


def _setting_controls(family: str) -> dict:
    """One control per tab setting (contract/settings.py), showing `family`'s values: a dropdown
    for a setting with choices (the loss), a number otherwise; hidden where the family lacks it."""
    mine, controls = family_defaults(family), {}
    with gr.Row():
        for name, first in tab_settings().items():
            build = ({"allow_custom_value": True} if first["choices"] else
                     {"precision": 0 if first["integer"] else None, "minimum": first["minimum"],
                      "maximum": first["maximum"]})
            controls[name] = _control(name, first, mine, elem_id=f"tr-set-{name}", **build)
    return controls


def _build_image(ctx) -> dict:
    families = [f for f in api.list_families()]
    first = "cgan"
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            family = gr.Dropdown(families, value=first, label="Family", elem_id="tr-family")
            dataset = gr.Dropdown(DATASETS, value="mnist5k", label="Dataset", elem_id="tr-dataset")
            upload = gr.File(label="Zip of images (for 'uploaded zip')", file_types=[".zip"], type="filepath")
            setting_controls = _setting_controls(first)
            with gr.Row():
                batch = gr.Slider(8, ctx.jobs.limits.max_batch, value=64, step=8, label="batch size")
                steps = gr.Number(2000, label="steps", precision=0, minimum=1, maximum=ctx.jobs.limits.max_steps,
                                  elem_id="tr-steps")
            with gr.Row():
                ema = gr.Number(0.0, label="EMA decay (0 = off; 0.999 smooths long runs)")
                seed = gr.Number(0, label="seed", precision=0, minimum=0)
            if on_zerogpu():
                gr.Markdown("On this ZeroGPU Space training runs on the CPU: a GPU is lent for one call "
                            "of a minute or two, and a run outlives any call. Generation uses the GPU.")
            with gr.Row():
                device = gr.Radio(["auto", "cpu", "cuda"], value="auto", label="device")
                augment = gr.Checkbox(False, label="DiffAugment")
            # several GPUs: one run in N local processes (torchrun, data-parallel); hidden with one device
            top = ctx.jobs.limits.max_processes
            processes = gr.Slider(1, max(top, 2), value=1, step=1, visible=top > 1, elem_id="tr-processes",
                                  label="processes (one per GPU; the batch is split across them)")
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="tr-start")
                stop = gr.Button("Stop", variant="stop", elem_id="tr-stop")
                resume = gr.Button("Resume", elem_id="tr-resume")
        with gr.Column(scale=2):
            progress = gr.Markdown(_progress(None, ctx.jobs.active()), elem_id="tr-progress")
            # start with None and never send an empty DataFrame: once a LinePlot has shown an empty
            # frame it draws no lines on later updates (seen with Gradio 6.31)
            plot = gr.LinePlot(None, x="step", y="value", color="series", label="Losses",
                               color_title="series", height=460, elem_id="tr-plot")
            growth = gr.LinePlot(None, x="step", y="value", color="series", label="Growth: resolution and fade-in",
                                 color_title="series", height=220, visible=False, elem_id="tr-growth")
            grid = gr.Image(label="Samples from fixed seeds (low resolutions shown nearest-upsampled)", format="png", interactive=False,
                            elem_id="tr-grid", elem_classes=["pixelated"])
            with gr.Accordion("Use what you trained", open=False):
                gr.Markdown("Finished and stopped runs appear in the other tabs' model lists (press ↻). "
                            "TensorBoard: `tensorboard --logdir runs/ui/_tb` (or `$PLAYGROUND_RUNS_DIR/_tb`).")
                with gr.Row():
                    download_btn = gr.Button("Download latest run (.zip)")
                    download = gr.File(label="Run zip", elem_id="tr-download")
                with gr.Row():
                    upload_run = gr.File(label="Upload a run zip", file_types=[".zip"], type="filepath")
                    upload_msg = gr.Markdown()
                with gr.Row():
                    share = gr.Checkbox(False, label="Share my latest run (other visitors may sample it; "
                                        "only you can stop, resume or download it)", elem_id="tr-share")
                    share_msg = gr.Markdown()
    timer = gr.Timer(1.0)

    form = [family, dataset, upload, *setting_controls.values(), batch, steps, ema, seed, device, augment, processes]

    def start_from(form: TrainForm, request):
        run_id = start_run(ctx.jobs, ctx.budget, ctx.runs_dir, _spec(form), form.upload, owner_of(request),
                           int(form.processes or 1), ctx.protected_paths)
        return _progress(ctx.jobs.status(run_id))

    def resume_from(form: TrainForm, request):
        spec = _spec(TrainForm(**{**form.__dict__, "dataset": "mnist5k", "upload": None}))  # the run keeps its data
        return _progress(ctx.jobs.status(resume_run(ctx.jobs, spec, owner_of(request), int(form.processes or 1))))

    do_start = user_errors(form_handler(start_from, "Start a background training run of yours."))
    do_resume = user_errors(form_handler(resume_from, "Continue your latest run to a new total of steps."))

    @user_errors
    def do_stop(request: gr.Request = None):
        snap = ctx.jobs.status(owner=owner_of(request))
        if snap is None or snap["status"] not in ("starting", "running", "stopping"):
            raise PlaygroundError("you have no run going")
        ctx.jobs.stop(snap["id"], owner=owner_of(request))
        return _progress(ctx.jobs.status(snap["id"]))

    def poll(seen: tuple, request: gr.Request = None):
        """This visitor's latest run; only what changed since the last tick (plot rows, grid step)."""
        snap = ctx.jobs.status(owner=owner_of(request))
        if snap is None:
            return _progress(None, ctx.jobs.active()), gr.skip(), gr.skip(), gr.skip(), seen
        key = (snap["id"], len(snap["history"]), snap["grid_step"])
        if tuple(seen or ()) == key:
            return _progress(snap), gr.skip(), gr.skip(), gr.skip(), seen
        img = for_display(snap["grid"], min_px=400) if snap["grid"] is not None else gr.skip()
        plot = _plot(snap["history"]) if snap["history"] else gr.skip()  # never send an empty frame
        timeline = _timeline(snap.get("timeline", []))
        growth_plot = gr.LinePlot(timeline, visible=True) if timeline is not None else gr.LinePlot(visible=False)
        return _progress(snap), plot, growth_plot, img, key

    @user_errors
    def do_download(request: gr.Request = None):
        snap = ctx.jobs.status(owner=owner_of(request))
        if snap is None or snap["status"] in ("starting", "running", "stopping"):
            raise PlaygroundError("stop or finish a run of yours before downloading it")
        return str(export_zip(snap["out"], OutputFolder()))

    @user_errors
    def do_upload(path, request: gr.Request = None):
        if not path:
            return ""
        dest = import_zip(path, ctx.runs_dir, max_resolution=ctx.jobs.limits.max_resolution,
                              budget=ctx.budget, protect=ctx.protected_paths(), owner=owner_of(request))
        return f"Installed as `{dest.name}`: pick it in the other tabs (press ↻). Only you can use it until you share it."

    @user_errors
    def do_share(shared: bool, request: gr.Request = None):
        """Share (or unshare) this visitor's latest run, trained or uploaded."""
        run = latest_owned(ctx.runs_dir, owner_of(request))
        if run is None:
            raise PlaygroundError("you have no run to share: train or upload one first")
        set_shared(run, owner_of(request), bool(shared))
        return (f"Run `{run.name}` is now shared: every visitor can sample it." if shared else
                f"Run `{run.name}` is private again.")

    family.change(on_family, family, list(setting_controls.values()), api_name="train_family_defaults")
    start.click(do_start, form, progress, api_name="train_start")
    stop.click(do_stop, None, progress, api_name="train_stop")
    resume.click(do_resume, form, progress, api_name="train_resume")
    seen = gr.State(())
    timer.tick(poll, seen, [progress, plot, growth, grid, seen], api_visibility="private", show_progress="hidden")
    def status(request: gr.Request = None):
        return poll((), request)[:4]

    gr.Button("Refresh status", size="sm").click(status, None, [progress, plot, growth, grid], api_name="train_status")
    download_btn.click(do_download, None, download, api_name="train_download")
    upload_run.upload(do_upload, upload_run, upload_msg, api_name="train_upload_run")
    share.change(do_share, share, share_msg, api_name="train_share")
    return {"family": family, "dataset": dataset, "steps": steps}

"""The training loop: a generator of events, the same for every family.

    for ev in train(spec, stop_event): ...

yields `Event`s: "step" (named scalars, img/s, ETA), "samples" (a grid from fixed seeds),
"checkpoint", then "done" or "error". The caller decides what to do with them (print, stream to a
browser, ignore); TensorBoard receives them here.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from .. import checkpoint
from ..data import load_dataset
from ..data.augment import parse_policy
from ..device import pick_device
from ..errors import PlaygroundError
from ..contract import Kind, Resources
from ..images.convert import grid, to_float, to_uint8
from ..registry import get_family
from ..seed import deterministic_mode, make_generator, same_seeds
from ..contract import make_config
from .config import fit_to_dataset
from .context import BatchSampler, StepContext, StopRequested
from .dist import Dist, from_env, local_device
from .diagnose import Diagnoser, diverged
from .ema import ema_decay, make_ema, update_ema
from .health import SampleDiversity
from .tb import TBLogger
from .update import Updater, make_precision


PHASE = "phase/"    # prefix of the step scalars that say where a scheduled run is (phase/resolution, ...)


@dataclass
class TrainSpec:
    family: str
    dataset: str = "mnist5k"
    steps: int = 1000
    batch_size: int = 64
    seed: int = 0
    out: str | None = None              # checkpoint folder; None = don't save
    device: str | None = None
    resume: str | None = None
    overrides: dict = field(default_factory=dict)  # family Config fields
    augment: str = ""                   # DiffAugment policy, e.g. "translation,cutout"
    ema: float = 0.0                    # EMA decay for G (0 = off)
    ema_rampup: float = 0.0             # EMA half-life capped at this fraction of the steps done (0 = off)
    log_every: int = 50
    sample_every: int = 500
    ckpt_every: int = 1000
    logdir: str | None = None           # TensorBoard; None = off
    deterministic: bool = False
    data_dir: str | None = None
    allow_download: bool = False
    command: str = ""                   # recorded in config.json so the run can be repeated
    threads: int = 0                    # torch CPU threads (0 = torch's default)
    fp16_weights: bool = False          # store the inference weights (model.safetensors) in fp16
    max_resolution: int = 0             # refuse data above this size (a public server's limit; 0 = none)
    precision: str = "fp32"             # fp32 | bf16 | fp16 (autocast; fp16 adds loss scaling)
    compile: bool = False               # torch.compile the nets the family allows (family.compilable)
    clip_grad: float = 0.0              # clip each net's gradient norm (0 = off)
    diagnose_window: int = 500          # steps a health signal must hold before it is diagnosed
    keep_checkpoints: bool = False      # also copy each checkpoint's weights + config to out/steps/STEP


@dataclass
class Event:
    kind: str                           # step | samples | checkpoint | done | error
    step: int
    total: int
    scalars: dict = field(default_factory=dict)
    image: np.ndarray | None = None     # uint8 [H, W, C] grid
    path: str | None = None
    message: str = ""
    images: int = 0                     # real images consumed so far (all ranks): throughput
    topic: str = ""                     # a "diagnosis" event's topic (engine/diagnose.py EXPLANATIONS)


def _fixed_inputs(family, G, seed: int, device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The noise (and labels) for progress grids: one row per class when conditional."""
    g = make_generator(seed + 7919)
    if G.num_classes:
        n = G.num_classes * 8
        c = torch.arange(G.num_classes).repeat_interleave(8)
    else:
        n, c = 64, None
    z = G.sample_latent(n, g) if family.kind is Kind.CODES else torch.randn(n, G.z_dim, generator=g)
    return z.to(device), (None if c is None else c.to(device))


@torch.no_grad()
def _samples(G, z, c) -> np.ndarray:
    """uint8 [N, H, W, C] from fixed inputs, G in eval mode."""
    was = G.training
    G.eval()
    x = G(z) if c is None else G(z, c)
    G.train(was)
    return to_uint8(x).numpy()


def _diversity(family, spec: TrainSpec, sampler: BatchSampler, n: int, resources: Resources) -> SampleDiversity | None:
    """Sample diversity is measured for unconditional noise-driven models (a conditional preview
    holds every class by construction) on data with a project classifier."""
    if family.preview is not None or family.kind not in (Kind.SAMPLER, Kind.STYLE, Kind.CODES):
        return None
    pick = torch.randperm(len(sampler.images), generator=make_generator(spec.seed + 104729))[:n]
    return SampleDiversity.for_dataset(resources, spec.dataset, to_float(sampler.images[pick.to(sampler.images.device)].cpu()))


def _trainer_state(ctx: StepContext, ema) -> dict:
    return {
        "nets": {k: v.state_dict() for k, v in ctx.nets.items()},
        "opts": {k: v.state_dict() for k, v in ctx.opts.items()},
        "ema": None if ema is None else ema.state_dict(),
        "gen": ctx.gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "batches_seen": ctx.batches_seen,
        "images_seen": ctx.images_seen,
        "extra": ctx.extra,
        "update": ctx.update.state_dict(),
        "streams": dict(ctx.streams),
    }


def _restore(ctx: StepContext, ema, state: dict) -> None:
    for k, net in ctx.nets.items():
        checkpoint.load_into(net, state["nets"][k], f"net {k}")
    for k, opt in ctx.opts.items():
        # the optimiser's moments come from the checkpoint, its hyperparameters from the config, so
        # `--resume DIR --set lr=...` really changes the learning rate
        hyper = [{h: g[h] for h in ("lr", "betas", "weight_decay") if h in g} for g in opt.param_groups]
        opt.load_state_dict(state["opts"][k])
        for group, h in zip(opt.param_groups, hyper):
            group.update(h)
    if ema is not None:
        if state["ema"] is None:
            raise PlaygroundError("the checkpoint was trained without EMA; resume without --ema")
        checkpoint.load_into(ema, state["ema"], "ema")
    elif state["ema"] is not None:  # dropping the average silently would ship the raw G instead
        raise PlaygroundError("the checkpoint was trained with EMA; resume with --ema (the same decay)")
    ctx.gen.set_state(state["gen"].cpu() if ctx.gen.device.type == "cpu" else state["gen"])
    torch.set_rng_state(state["torch_rng"])
    ctx.batches_seen = int(state["batches_seen"])
    ctx.images_seen = int(state["images_seen"])
    ctx.extra = state["extra"]
    ctx.update.load_state_dict(state.get("update"))
    ctx.streams = {k: int(v) for k, v in (state.get("streams") or {}).items()}


def _save(spec: TrainSpec, family, ctx: StepContext, ema, ds_name: str) -> str:
    G = ema if ema is not None else ctx.nets["G"]
    # a resumed run keeps the commands that produced it, oldest first
    history = list(ctx.extra.get("history", []))
    meta = {"dataset": ds_name, "class_names": ctx.extra.get("class_names", []),
            "seed": spec.seed, "command": spec.command, "history": history,
            "world_size": ctx.dist.world, "batchnorm": _batchnorm_mode(ctx),
            "train": {k: v for k, v in dataclasses.asdict(spec).items()
                      if k not in ("out", "resume", "command", "device", "threads", "max_resolution",
                                 "keep_checkpoints")}}
    checkpoint.save(spec.out, family=family.name, config=dataclasses.asdict(ctx.cfg),
                    model_state=G.state_dict(), step=ctx.step, meta=meta,
                    trainer_state=_trainer_state(ctx, ema), half=spec.fp16_weights)
    if spec.keep_checkpoints:
        checkpoint.keep_copy(spec.out, ctx.step)
    return str(spec.out)


def _checkpoint_event(spec, family, ctx: StepContext, ema, ds_name: str, announce: bool = True):
    """Rank 0 writes; every rank waits for it, so no rank runs ahead of a checkpoint on disk."""
    ctx.dist.average_buffers([*ctx.nets.values(), *([] if ema is None else [ema])])
    if ctx.dist.is_main:
        path = _save(spec, family, ctx, ema, ds_name)
        if announce:
            yield Event("checkpoint", ctx.step, spec.steps, path=path)
    ctx.dist.barrier()


def _batchnorm_mode(ctx: StepContext) -> str:
    """How BatchNorm saw the batch: what the card says about a multi-process run."""
    bns = [m for net in ctx.nets.values() for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return "none"
    if ctx.dist.world == 1:
        return "global batch"
    return "synchronised" if isinstance(bns[0], torch.nn.SyncBatchNorm) else "per-rank statistics"


def _fast_path(spec: TrainSpec, device: torch.device) -> bool:
    """GPU settings: TF32 matmuls/convs and cuDNN autotuning, unless the run is --deterministic.
    Returns whether conv nets and batches should be channels_last."""
    if device.type != "cuda" or spec.deterministic:
        return False
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = False
    return True


def _prepare_nets(nets: dict, dist: Dist, device: torch.device, channels_last: bool) -> dict:
    for k, net in nets.items():
        if dist.active and device.type == "cuda":  # one BatchNorm over the global batch (NCCL only)
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        if channels_last and any(p.dim() == 4 for p in net.parameters()):
            net = net.to(memory_format=torch.channels_last)
        nets[k] = net
    dist.broadcast_modules(nets.values())
    return nets


def _enter_phase(family, ctx: StepContext, shown: torch.nn.Module) -> None:
    """Set ctx.phase for the step about to run (families with a schedule). At a stage boundary the
    family finishes the old stage, then every optimiser is rebuilt over the grown nets."""
    phase = family.schedule(ctx.cfg, ctx.step)
    if ctx.phase is not None and phase.stage != ctx.phase.stage:
        if family.end_stage is not None:
            family.end_stage(ctx, shown, ctx.phase)
        ctx.opts = family.optimizers(ctx.cfg, ctx.nets)
        ctx.update.use(ctx.opts)
    ctx.phase = phase


class Diverged(Exception):
    def __init__(self, values: dict[str, float]):
        super().__init__("non-finite " + ", ".join(k for k, v in values.items() if not math.isfinite(v)))
        self.values = values


def _finite(scalars: dict) -> dict[str, float]:
    values = {k: float(v) for k, v in scalars.items()}
    if not all(math.isfinite(v) for v in values.values()):
        raise Diverged(values)
    return values


def _diagnosis_events(found: list, tb: TBLogger, total: int, is_main: bool) -> Iterator[Event]:
    for d in found:
        tb.text(f"diagnosis/{d.topic}", f"step {d.step}: {d.message}")
        tb.scalars(d.step, {f"diagnosis/{d.topic}": 1.0})
        if is_main:
            yield Event("diagnosis", d.step, total, message=d.message, topic=d.topic)


def train(spec: TrainSpec, stop: threading.Event | None = None, resources: Resources | None = None) -> Iterator[Event]:
    """Run (or resume) a training run, yielding events. Stops early when `stop` is set.

    `resources` is what the family and the health signals may use from above the engine (the
    project classifiers, other checkpoints); `eval.resources.training_resources()` gives them all,
    None gives none (a family that needs one says so)."""
    resources = resources or Resources()
    family = get_family(spec.family)
    if spec.steps < 1 or spec.batch_size < 1:
        raise PlaygroundError("steps and batch size must be positive")
    if not 0.0 <= spec.ema < 1.0:  # also refuses NaN
        raise PlaygroundError(f"EMA decay must be in [0, 1) (0 = off), got {spec.ema}")
    if not 0.0 <= spec.ema_rampup <= 1.0:
        raise PlaygroundError(f"EMA ramp-up must be in [0, 1] (0 = off; stylegan2-ada uses 0.05), got {spec.ema_rampup}")
    if spec.threads:
        torch.set_num_threads(spec.threads)
    same_seeds(spec.seed)
    if spec.deterministic:
        deterministic_mode(True)
    device = pick_device(spec.device)
    dist = from_env(device)                         # torchrun: this process's rank (else a single one)
    device = local_device(device, dist)
    precision = make_precision(spec.precision, device)
    channels_last = _fast_path(spec, device)
    if spec.out:
        checkpoint.ensure_writable_dir(spec.out)
    try:
        policy = parse_policy(spec.augment)
    except ValueError as e:
        raise PlaygroundError(str(e)) from None

    saved = checkpoint.read_config(spec.resume) if spec.resume else None
    if saved and saved["family"] != family.name:
        raise PlaygroundError(f"cannot resume a {saved['family']} run as {family.name}")
    ds = load_dataset(spec.dataset, "train", data_dir=spec.data_dir, allow_download=spec.allow_download)
    cfg = make_config(family, spec.overrides, base=saved["config"] if saved else None)
    cfg, ds = family.prepare_dataset(cfg, ds, resources)   # e.g. StyleGAN pads 28x28 to 32x32
    cfg = fit_to_dataset(cfg, family, ds)
    if spec.max_resolution and cfg.img_resolution > spec.max_resolution:
        raise PlaygroundError(f"{ds.name} is {cfg.img_resolution}x{cfg.img_resolution}; this server trains at most "
                              f"{spec.max_resolution}x{spec.max_resolution}")
    cfg = family.fit_to_run(cfg, spec.steps)       # e.g. CycleGAN's lr decay needs the run's length
    try:
        nets = family.build(cfg)
        if family.warm_start is not None:
            family.warm_start(cfg, nets, resources)
        nets = _prepare_nets({k: v.to(device) for k, v in nets.items()}, dist, device, channels_last)
        sampler = BatchSampler(ds, spec.batch_size, spec.seed, device, dist, channels_last)
        opts = family.optimizers(cfg, nets)
    except (ValueError, RuntimeError, ArithmeticError) as e:   # e.g. a width of 0: no net of that shape
        raise PlaygroundError(f"{family.name}: invalid settings: {e}") from None
    for net in nets.values():
        net.train()
    # under torchrun a stop is agreed on by all ranks at log steps, never raised inside one rank's step
    ctx = StepContext(nets=nets, opts=opts, cfg=cfg, device=device, sampler=sampler,
                      gen=make_generator(spec.seed, device), dist=dist, precision=precision,
                      augment_policy=policy, stop=None if dist.active else stop,
                      update=Updater(opts, dist, precision, spec.clip_grad), resources=resources)
    ema = make_ema(nets["G"]) if spec.ema else None
    if spec.compile:  # in place: state_dict keys (and so checkpoints) stay those of the plain module
        for k in family.compilable(cfg):
            nets[k].compile()
    ctx.extra["class_names"] = list(ds.class_names) if family.conditional else []
    if saved:
        _restore(ctx, ema, checkpoint.load_trainer_state(spec.resume))
        ctx.step = int(saved["step"])
        ctx.extra["history"] = saved.get("history", []) + [{"command": saved.get("command", ""),
                                                            "to_step": ctx.step}]
    if family.schedule is not None and ctx.step > 0:   # the phase of the last step done: a stage
        ctx.phase = family.schedule(cfg, ctx.step - 1)  # that ended there ends again, as uninterrupted
    diversity = None
    if family.preview is not None:  # e.g. translation families show inputs and outputs
        preview = lambda G: (family.preview(ctx, G), {})  # noqa: E731
    else:
        fixed_z, fixed_c = _fixed_inputs(family, nets["G"], spec.seed, device)
        diversity = _diversity(family, spec, sampler, len(fixed_z), resources) if dist.is_main else None

        def preview(G):
            images = _samples(G, fixed_z, fixed_c)
            return grid(images, nrow=8), ({} if diversity is None else diversity.measure_grid_images(images))
    diagnoser = Diagnoser(spec.steps, spec.diagnose_window)
    tb = TBLogger(spec.logdir if dist.is_main else None)
    tb.text("config", f"family={family.name} dataset={ds.name} spec={spec} cfg={cfg}")

    last_t, last_images = time.perf_counter(), ctx.images_seen
    started_step, t0 = ctx.step, last_t
    last_saved = ctx.step
    try:
        while ctx.step < spec.steps:
            if not dist.active and stop is not None and stop.is_set():
                break
            if family.schedule is not None:
                _enter_phase(family, ctx, ema if ema is not None else nets["G"])
            nxt = ctx.step + 1           # gradient norms cost a reduction: only on the steps that log
            ctx.update.measure = (nxt % spec.log_every == 0 or nxt == spec.steps
                                  or bool(spec.out and nxt % spec.ckpt_every == 0))
            try:
                with precision.autocast():
                    scalars = family.train_step(ctx)
            except StopRequested:  # stopped inside a long step: the counters say what was consumed
                break
            except (RuntimeError, ValueError, ArithmeticError) as e:
                if ctx.step > started_step:
                    raise
                # the first step of this process: the settings (or the device) cannot run at all
                raise PlaygroundError(f"{family.name} cannot train with these settings: {e}") from None
            ctx.step += 1
            if ema is not None:
                update_ema(ema, nets["G"], ema_decay(spec.ema, ctx.step, spec.ema_rampup))
            s = ctx.step
            at_ckpt = spec.out and (s % spec.ckpt_every == 0)
            if s % spec.log_every == 0 or at_ckpt or s == spec.steps:
                scalars.update(ctx.update.take_grad_norms())
                values = _finite(dist.mean_scalars(scalars))   # every rank raises together on NaN
                now = time.perf_counter()
                values["img_per_s"] = (ctx.images_seen - last_images) / max(now - last_t, 1e-9)
                last_t, last_images = now, ctx.images_seen
                rate = (s - started_step) / max(now - t0, 1e-9)
                values["eta_s"] = (spec.steps - s) / max(rate, 1e-9)
                if ctx.phase is not None:
                    values.update({f"{PHASE}{k}": float(v) for k, v in ctx.phase.values.items()})
                tb.scalars(s, values)
                if dist.is_main:
                    yield Event("step", s, spec.steps, values, images=ctx.images_seen)
                yield from _diagnosis_events(diagnoser.at_log(s, values), tb, spec.steps, dist.is_main)
                if dist.active and dist.any(stop is not None and stop.is_set()):
                    break
            if dist.is_main and (s % spec.sample_every == 0 or s == spec.steps):
                img, health = preview(ema if ema is not None else nets["G"])
                tb.image(s, "samples", img)
                tb.scalars(s, health)
                yield Event("samples", s, spec.steps, health, image=img)
                yield from _diagnosis_events(diagnoser.at_samples(s, health), tb, spec.steps, True)
            if at_ckpt:
                last_saved = s
                yield from _checkpoint_event(spec, family, ctx, ema, ds.name)
    except Diverged as e:            # nothing is saved after it: the last checkpoint on disk is the good one
        found = diverged(ctx.step, e.values, last_saved if spec.out and last_saved > 0 else None)
        yield from _diagnosis_events([found], tb, spec.steps, dist.is_main)
        tb.close()
        if dist.is_main:
            yield Event("error", ctx.step, spec.steps, message=found.message, topic=found.topic)
        return
    if spec.out and ctx.step > last_saved:
        yield from _checkpoint_event(spec, family, ctx, ema, ds.name, announce=False)
    path = str(spec.out) if spec.out else None
    tb.close()
    stopped = ctx.step < spec.steps
    yield Event("done", ctx.step, spec.steps, path=path,
                message="stopped" if stopped else "finished")

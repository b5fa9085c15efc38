"""`python -m playground COMMAND ...`: list, train, sample, summary, eval, bench, train-classifier,
card, translate, upscale, mix, text, invert, edit, export, retrain.

Every command goes through `playground.api`; user errors print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path

from .errors import PlaygroundError
from .images.writing import write_samples


def _parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise PlaygroundError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.replace("-", "_")] = value
    return out


def _settings_epilog(api) -> str:
    """`train --help`'s list of every family's settings with their defaults (from the Config schema)."""
    lines = ["family settings (--set KEY=VALUE; `python -m playground settings FAMILY` explains each):"]
    for family in api.list_families():
        items = " ".join(f"{r['name']}={r['default']}" for r in api.family_setting_table(family))
        lines.append(f"  {family}: {items}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    from . import api

    p = argparse.ArgumentParser(prog="python -m playground", description="GAN Playground")
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("list", help="families, datasets and shipped models")

    t = sub.add_parser("train", help="train a GAN family", epilog=_settings_epilog(api),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("family", help="a family from `list` (gan, dcgan, cgan, ...)")
    t.add_argument("--dataset", default="mnist5k", help="a dataset from `list`, folder:PATH, or NAME:3,7 for some classes")
    t.add_argument("--steps", type=int, default=1000, help="training steps (a step updates every net once)")
    t.add_argument("--batch-size", type=int, default=64, help="images per step (the global batch under torchrun)")
    t.add_argument("--seed", type=int, default=0, help="seeds data order, noise and initial weights")
    t.add_argument("--out", required=True, help="checkpoint folder")
    t.add_argument("--device", default=None, choices=["cpu", "cuda", "mps", "auto"], help="default: cuda when present")
    t.add_argument("--resume", default=None, help="checkpoint folder to continue from")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="family setting, e.g. --set arch=conv --set lr=1e-4 (repeatable); each family's "
                   "settings are listed below, `settings FAMILY` explains them")
    t.add_argument("--augment", default="", help="DiffAugment policy, e.g. translation,cutout")
    t.add_argument("--ema", type=float, default=0.0, help="EMA decay for G, e.g. 0.999")
    t.add_argument("--ema-rampup", type=float, default=0.0,
                   help="cap the EMA's half-life at this fraction of the steps done (stylegan2-ada: 0.05)")
    t.add_argument("--log-every", type=int, default=100, help="steps between logged losses and health signals")
    t.add_argument("--sample-every", type=int, default=1000, help="steps between sample grids")
    t.add_argument("--ckpt-every", type=int, default=1000, help="steps between checkpoints")
    t.add_argument("--logdir", default=None, help="TensorBoard dir (default runs/<out name>)")
    t.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard log")
    t.add_argument("--deterministic", action="store_true", help="deterministic kernels (exact resume on CPU)")
    t.add_argument("--data-dir", default=None, help="folder holding the dataset's files")
    t.add_argument("--download", action="store_true", help="allow downloading the dataset")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    t.add_argument("--fp16-weights", action="store_true", help="store G's weights in fp16")
    t.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                   help="mixed precision for the forward passes (fp16: GPU only, with loss scaling)")
    t.add_argument("--compile", action="store_true", help="torch.compile the nets the family allows")
    t.add_argument("--clip-grad", type=float, default=0.0, help="clip each net's gradient norm (0 = off)")
    t.add_argument("--keep-checkpoints", action="store_true",
                   help="also keep each checkpoint's weights and config in OUT/steps/STEP, to evaluate and pick from")

    s = sub.add_parser("sample", help="sample images from a model")
    s.add_argument("model", help="a shipped model name or a checkpoint folder")
    s.add_argument("--n", type=int, default=64, help="how many images")
    s.add_argument("--seed", type=int, default=0, help="the same seed gives the same images")
    s.add_argument("--label", type=int, default=None, help="class (conditional models)")
    s.add_argument("--code-cat", type=int, default=None, help="InfoGAN categorical code (default: cycle)")
    s.add_argument("--code-cont", default=None, help="InfoGAN continuous codes, e.g. 0.5,-1")
    s.add_argument("--truncation", type=float, default=None,
                   help="BigGAN: redraw every |z_i| above this threshold (e.g. 0.5)")
    s.add_argument("--resolution", type=int, default=None,
                   help="ProGAN: sample as G was when this resolution was finished (e.g. 8)")
    s.add_argument("--out", required=True, help=".png (grid) or .npz (images, labels)")

    st = sub.add_parser("settings", help="a family's settings: default, allowed values, what each does")
    st.add_argument("family", help="a family from `list`")

    m = sub.add_parser("summary", help="per-layer table of a family's networks")
    m.add_argument("family", help="a family from `list`")
    m.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="family setting, as for train")

    e = sub.add_parser("eval", help="measure a model")
    e.add_argument("model", help="a shipped model name or a checkpoint folder")
    e.add_argument("--metrics", default="fid", help="comma list of: " + "; ".join(
        f"{m['name']} ({m['summary']}{', ' + m['better'] + ' is better' if m['better'] else ''})"
        for m in api.list_metrics()))
    e.add_argument("--n", "--samples", dest="n", type=int, default=10_000,
                   help="generated samples (in total); under torchrun write --samples (torchrun takes --n for itself)")
    e.add_argument("--inception-weights", default=None, help="Inception-v3 weights file (else domain net)")
    e.add_argument("--feature-net", default="auto", choices=["auto", "inception", "domain"],
                   help="auto: Inception-v3 when its weights are present, else the dataset's classifier")
    e.add_argument("--seed", type=int, default=0, help="seed of the generated samples")
    e.add_argument("--json", default=None, help="also write results to this file")
    e.add_argument("--write-card", action="store_true", help="record results in the model's card")

    b = sub.add_parser("bench", help="speed measurements")
    b.add_argument("--only", default="", help="comma list: train,sample,app,fid,sr,translate,mix,text,lessons,families,bf16")
    b.add_argument("--device", default="cpu", help="cpu or cuda")
    b.add_argument("--json", default=None, help="also write results to this file")

    lt = sub.add_parser("loadtest", help="latency of the served app under concurrent clients (loopback)")
    lt.add_argument("--clients", type=int, default=8, help="concurrent clients, each its own session")
    lt.add_argument("--calls", type=int, default=50, help="calls per client")
    lt.add_argument("--endpoint", default="generate", help="the api_name called (without the slash)")
    lt.add_argument("--timeout", type=float, default=300.0, help="stop after this many seconds")
    lt.add_argument("--json", default=None, help="also write results to this file")

    c = sub.add_parser("train-classifier", help="train the evaluation classifier for a dataset")
    c.add_argument("--dataset", required=True, help="a labelled dataset")
    c.add_argument("--epochs", type=int, default=5, help="passes over the training split")
    c.add_argument("--seed", type=int, default=0, help="seeds data order and weights")
    c.add_argument("--out", required=True, help="classifier folder, e.g. checkpoints/classifier-NAME")

    tr = sub.add_parser("translate", help="translate an image with a two-domain model (CycleGAN)")
    tr.add_argument("model", help="a two-domain model (cyclegan-...)")
    tr.add_argument("--input", required=True, help="any image file (converted to the model's size and channels)")
    tr.add_argument("--direction", default="a2b", choices=["a2b", "b2a"], help="domain A to B, or back")
    tr.add_argument("--out", required=True, help=".png: input | translated | reconstructed")

    up = sub.add_parser("upscale", help="super-resolve an image x4")
    up.add_argument("model", help="an upscaler (srresnet-x4, srgan-x4)")
    up.add_argument("--input", required=True, help="any image file (large ones are tiled)")
    up.add_argument("--out", required=True, help=".png")

    mx = sub.add_parser("mix", help="StyleGAN style-mixing grid (top row = A, left column = B)")
    mx.add_argument("model", help="a StyleGAN model")
    mx.add_argument("--rows", default="0-4", help="source-A seeds for the top row, e.g. 1,2,5-7")
    mx.add_argument("--cols", default="10-14", help="source-B seeds for the left column")
    mx.add_argument("--crossover", default="coarse", help="coarse|middle|fine, K (A on layers 0..K-1) or LO:HI")
    mx.add_argument("--truncation", type=float, default=1.0, help="psi (1 = none, 0 = the mean image)")
    mx.add_argument("--noise", default="const", choices=["const", "none", "random"], help="per-layer noise: fixed, off or redrawn")
    mx.add_argument("--out", required=True, help=".png")

    tx = sub.add_parser("text", help="images of a sentence from a text-guided model (TediGAN)")
    tx.add_argument("model", help="a text-guided model (tedigan-...)")
    tx.add_argument("prompt", help='a sentence, e.g. "a dark ankle boot"')
    tx.add_argument("--n", type=int, default=16, help="how many images")
    tx.add_argument("--seed", type=int, default=0, help="the same seed gives the same images")
    tx.add_argument("--truncation", type=float, default=None, help="spread around the sentence's mean w")
    tx.add_argument("--out", required=True, help=".png grid or .npz")

    iv = sub.add_parser("invert", help="project an image into a text-guided model's W+ (TediGAN)")
    iv.add_argument("model", help="a text-guided model")
    iv.add_argument("--input", required=True, help="the image to invert")
    iv.add_argument("--steps", type=int, default=60, help="refinement steps after the encoder")
    iv.add_argument("--out", required=True, help=".png: input | encoder only | refined")

    ed = sub.add_parser("edit", help="edit a seed's image or your image with a sentence (TediGAN)")
    ed.add_argument("model", help="a text-guided model")
    ed.add_argument("instruction", help='e.g. "make it darker"')
    src = ed.add_mutually_exclusive_group(required=True)
    src.add_argument("--seed", type=int, help="edit the image of this seed")
    src.add_argument("--input", help="or edit this image (inverted first)")
    ed.add_argument("--strength", type=float, default=1.0, help="how far the edit goes (0 = none)")
    ed.add_argument("--out", required=True, help=".png: before | after")

    x = sub.add_parser("export", help="write a generator as ONNX (checked with onnxruntime) or TorchScript")
    x.add_argument("model", help="a shipped model name or a checkpoint folder")
    x.add_argument("--format", default="onnx", choices=["onnx", "torchscript"], help="ONNX (checked with onnxruntime) or TorchScript")
    x.add_argument("--out", required=True, help=".onnx or .pt")
    x.add_argument("--direction", default="a2b", choices=["a2b", "b2a"], help="translators: which generator")

    rt = sub.add_parser("retrain", help="retrain shipped models with their recorded commands (e.g. on a GPU)")
    rt.add_argument("models", nargs="*", help="shipped model names (default: all)")
    rt.add_argument("--out-root", required=True, help="new checkpoint folders go here (checkpoints/ is not touched)")
    rt.add_argument("--device", default="cuda", help="device of every retraining")
    rt.add_argument("--jobs", type=int, default=1, help="models trained at once (on one GPU: several small ones)")
    rt.add_argument("--dry-run", action="store_true", help="print the commands only")

    ad = sub.add_parser("adopt", help="make a kept checkpoint (train --keep-checkpoints) a model folder")
    ad.add_argument("kept", help="OUT/steps/STEP")
    ad.add_argument("dest", help="the model folder to write, e.g. checkpoints/NAME")
    ad.add_argument("--provenance", required=True, help="where it was trained and why this step (the card says it)")

    ls = sub.add_parser("lessons", help="the Learn tab's lessons; `lessons run NAME` runs one's experiment")
    ls.add_argument("action", nargs="?", choices=["list", "run"], default="list", help="list (default) or run")
    ls.add_argument("name", nargs="?", default=None, help="the lesson to run (see `lessons`)")
    ls.add_argument("--out", default=None, help="also save the experiment's picture here (.png)")

    k = sub.add_parser("card", help="rewrite model cards, the README's model table and the generated parts of docs/")
    k.add_argument("model", nargs="?", default=None, help="default: every shipped model")
    return p


def _cmd_train(a) -> int:
    from . import api

    spec = api.TrainSpec(
        family=a.family, dataset=a.dataset, steps=a.steps, batch_size=a.batch_size, seed=a.seed,
        out=a.out, device=a.device, resume=a.resume, overrides=_parse_sets(a.set), augment=a.augment,
        ema=a.ema, ema_rampup=a.ema_rampup, log_every=a.log_every, sample_every=a.sample_every, ckpt_every=a.ckpt_every,
        logdir=None if a.no_tensorboard else (a.logdir or str(Path("runs") / Path(a.out).name)),
        deterministic=a.deterministic, data_dir=a.data_dir, allow_download=a.download,
        command=_launcher() + shlex.join(sys.argv[1:] if a.argv is None else a.argv),
        threads=a.threads, fp16_weights=a.fp16_weights, precision=a.precision, compile=a.compile,
        clip_grad=a.clip_grad, keep_checkpoints=a.keep_checkpoints)
    stop = threading.Event()
    clean = False                    # a failed rank leaves the group without waiting for the others
    try:
        with _stop_on_signals(stop):
            code = _print_events(api.train(spec, stop))
        clean = True
    finally:
        api.end_distributed(clean)
    return code


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGTERM (`timeout`, a job scheduler, a lent machine's limit) or Ctrl-C ends a training run
    after the step in hand, with a checkpoint of it, instead of losing the steps since the last one.
    A second signal quits at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(f"{signal.Signals(signum).name}: stopping after this step, with a checkpoint "
              "(signal again to quit now)", file=sys.stderr, flush=True)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _launcher() -> str:
    """How this process was started, for the checkpoint's record: torchrun's shape when under it."""
    from .engine.dist import env_world

    world = env_world()
    if world <= 1:
        return "python -m playground "
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    nodes = f" --nnodes {world // per_node}" if world != per_node else ""
    return f"torchrun --nproc_per_node {per_node}{nodes} -m playground "


def _print_events(events) -> int:
    """Print a run's events; under torchrun only rank 0 receives step/sample events."""
    main = int(os.environ.get("RANK", "0")) == 0
    for ev in events:
        if ev.kind == "step":
            vals = " ".join(f"{k} {v:.4g}" for k, v in ev.scalars.items())
            print(f"step {ev.step}/{ev.total} {vals}", flush=True)
        elif ev.kind == "checkpoint":
            print(f"checkpoint step {ev.step} -> {ev.path}", flush=True)
        elif ev.kind == "diagnosis":
            print(f"diagnosis at step {ev.step}: {ev.message}", flush=True)
        elif ev.kind == "error":
            print(f"error: {ev.message}", file=sys.stderr)
            return 1
        elif ev.kind == "done" and main:
            print(f"{ev.message} at step {ev.step}; checkpoint in {ev.path}", flush=True)
    return 0


def _cmd_sample(a) -> int:
    from . import api

    out = Path(a.out)
    if out.suffix not in (".png", ".npz"):
        raise PlaygroundError(f"--out must end in .png or .npz, not {out.name!r}")
    if a.label is not None and a.code_cat is not None:
        raise PlaygroundError("give --label or --code-cat, not both")
    label = a.label if a.code_cat is None else a.code_cat
    labels = None if label is None else [label] * a.n
    controls = {}
    if a.code_cont is not None:
        try:
            controls["code_cont"] = [float(v) for v in a.code_cont.split(",")]
        except ValueError:
            raise PlaygroundError(f"--code-cont must be comma-separated numbers, got {a.code_cont!r}") from None
    if a.truncation is not None:
        controls["truncation"] = a.truncation
    if a.resolution is not None:
        controls["resolution"] = a.resolution
    images, used = api.sample_with_labels(a.model, a.n, a.seed, labels=labels, **controls)
    write_samples(out, images, used)
    print(f"wrote {len(images)} samples to {out}")
    return 0


def _cmd_list(a) -> int:
    from . import api

    print("families:", ", ".join(api.list_families()))
    print("datasets:", ", ".join(api.list_datasets()))
    print("models:")
    for m in api.list_models():
        print(f"  {m['name']:<20} {m['family']:<8} {m['description']}")
    return 0


def _cmd_summary(a) -> int:
    from .tools.summary import family_summary

    print(family_summary(a.family, _parse_sets(a.set)))
    return 0


def _cmd_eval(a) -> int:
    from . import api

    res = api.evaluate(a.model, metrics=[m.strip() for m in a.metrics.split(",") if m.strip()], n=a.n,
                       seed=a.seed, inception_weights=a.inception_weights, feature_net=a.feature_net)
    if a.write_card and "rank" not in res:
        from .tools.cards import record_metrics

        record_metrics(a.model, res["metrics"])
    api.end_distributed()
    if "rank" in res:  # under torchrun, rank 0 reports
        return 0
    text = json.dumps(res, indent=2)
    print(text)
    if a.json:
        Path(a.json).write_text(text + "\n")
    return 0


def _cmd_bench(a) -> int:
    from .tools.bench import run_bench

    res = run_bench([x for x in a.only.split(",") if x], device=a.device)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


def _cmd_loadtest(a) -> int:
    from .tools.loadtest import run_loadtest

    res = run_loadtest(a.clients, a.calls, a.endpoint, a.timeout)
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0 if res["errors"] == 0 and not res["timed_out"] else 1


def _cmd_settings(a) -> int:
    from . import api

    rows = api.family_setting_table(a.family)
    width = max(len(r["name"]) for r in rows)
    for group in dict.fromkeys(r["group"] for r in rows):
        print(f"{group}:")
        for r in (r for r in rows if r["group"] == group):
            bounds = f" [{r['bounds']}]" if r["bounds"] else ""
            print(f"  {r['name']:<{width}}  {r['default']!r}{bounds}  {r['label']}: {r['help']}")
    return 0


def _cmd_train_classifier(a) -> int:
    from .eval.classifier import train_classifier

    cmd = "python -m playground " + shlex.join(sys.argv[1:] if a.argv is None else a.argv)
    metrics = train_classifier(a.dataset, a.epochs, a.seed, a.out, command=cmd)
    print(json.dumps(metrics))
    return 0


def _cmd_translate(a) -> int:
    import numpy as np

    from . import api

    res = api.translate(a.model, a.input, a.direction)
    strip = np.stack([res["input"], res["translated"], res["reconstructed"]])
    write_samples(a.out, strip, None, nrow=3)
    print(f"{res['source']} -> {res['target']}; input conversions: {'; '.join(res['conversions'])}")
    print(f"wrote input | translated | reconstructed to {a.out}")
    return 0


def _cmd_upscale(a) -> int:
    from . import api
    from .images.convert import to_pil

    out = Path(a.out)
    if out.suffix != ".png":
        raise PlaygroundError(f"--out must end in .png, not {out.name!r}")
    res = api.upscale(a.model, a.input)
    if not out.parent.is_dir():
        raise PlaygroundError(f"cannot write {out}: folder {out.parent} does not exist")
    to_pil(res["sr"]).save(out)
    w, h = res["output_size"]
    print(f"wrote {w}x{h} to {out}; input conversions: {'; '.join(res['conversions'])}")
    return 0


def _cmd_mix(a) -> int:
    from . import api
    from .images.convert import to_pil
    from .seed import parse_seed_list
    from .capabilities.style import parse_crossover

    out = Path(a.out)
    if out.suffix != ".png":
        raise PlaygroundError(f"--out must end in .png, not {out.name!r}")
    res = api.style_mix(a.model, parse_seed_list(a.rows, api.MAX_MIX_SEEDS), parse_seed_list(a.cols, api.MAX_MIX_SEEDS),
                        parse_crossover(a.crossover), a.truncation, a.noise)
    if not out.parent.is_dir():
        raise PlaygroundError(f"cannot write {out}: folder {out.parent} does not exist")
    to_pil(res["grid"]).save(out)
    lo, hi = res["layers"]
    print(f"wrote the mixing grid to {out}: A's styles on layers {lo}..{hi - 1} of {res['num_ws']} "
          f"(resolutions {res['layer_resolutions']})")
    return 0


def _png_out(path: str) -> Path:
    out = Path(path)
    if out.suffix != ".png":
        raise PlaygroundError(f"--out must end in .png, not {out.name!r}")
    if not out.parent.is_dir():
        raise PlaygroundError(f"cannot write {out}: folder {out.parent} does not exist")
    return out


def _cmd_text(a) -> int:
    from . import api

    res = api.text_to_image_info(a.model, a.prompt, a.n, a.seed, a.truncation)
    write_samples(a.out, res["images"], None, nrow=min(8, a.n))
    print(f"wrote {a.n} images of {res['prompt']!r} to {a.out}; image-text score {res['score']:.3f}")
    return 0


def _cmd_invert(a) -> int:
    import numpy as np

    from . import api

    out = _png_out(a.out)
    res = api.invert(a.model, a.input, a.steps)
    write_samples(out, np.stack([res["input"], res["encoder_only"], res["reconstruction"]]), None, nrow=3)
    print(f"PSNR {res['psnr_encoder']:.2f} dB (encoder) -> {res['psnr']:.2f} dB after {a.steps} refinement steps; "
          f"input conversions: {'; '.join(res['conversions'])}; wrote input | encoder | refined to {out}")
    return 0


def _cmd_edit(a) -> int:
    import numpy as np

    from . import api

    out = _png_out(a.out)
    res = api.edit(a.model, a.seed if a.input is None else a.input, a.instruction, a.strength)
    write_samples(out, np.stack([res["before"], res["after"]]), None, nrow=2)
    print(f"{res['source']}: {res['class_before']} -> {res['class_after']}; image-text score "
          f"{res['score_before']:.3f} -> {res['score_after']:.3f} (strength {res['strength']}, layers {res['layers']}); "
          f"wrote before | after to {out}")
    return 0


def _cmd_card(a) -> int:
    from .tools.cards import write_cards
    from .tools.docs import write_docs

    for path in write_cards(a.model):
        print(f"wrote {path}")
    for path in write_docs(_parser()):
        print(f"wrote {path}")
    return 0


def _cmd_lessons(a) -> int:
    from . import api

    if a.action == "list":
        for lesson in api.list_lessons():
            print(f"{lesson['name']:22s} {lesson['title']}")
        return 0
    if not a.name:
        raise PlaygroundError("say which lesson to run: python -m playground lessons run NAME")
    outcome = api.run_lesson(a.name)
    for key, value in outcome.figures.items():
        print(f"{key}: {round(value, 4) if isinstance(value, float) else value}")
    print(outcome.verdict)
    print("the lesson's claim holds" if outcome.holds else "the lesson's claim does NOT hold in this run")
    if a.out:
        from .images.writing import write_samples

        from .ui.learn import picture

        image = picture(outcome)
        if image is None:
            raise PlaygroundError("this lesson has no picture")
        write_samples(a.out, image[None], None, nrow=1)
        print(f"wrote {a.out}")
    return 0


def _cmd_retrain(a) -> int:
    from .tools.command_queue import Chain, run_chains
    from .tools.retrain import plan

    if a.jobs < 1:
        raise PlaygroundError("--jobs must be at least 1")
    threads = max(1, (os.cpu_count() or 1) // a.jobs) if a.jobs > 1 else 0
    chains = [Chain(m["name"], [[sys.executable, "-m", "playground", *argv]
                                for argv in m["train"] + ([m["eval"]] if m["eval"] else [])], tuple(m["after"]), m["steps"])
              for m in plan(a.models or None, a.out_root, a.device, threads)]
    if a.dry_run:
        for c in chains:
            for argv in c.commands:
                print("python -m playground " + shlex.join(argv[3:]))
        return 0
    stop = threading.Event()
    with _stop_on_signals(stop):
        status = run_chains(chains, a.jobs, Path(a.out_root) / "logs", stop)
    bad = {name: s for name, s in status.items() if s != "ok"}
    for name, s in bad.items():
        print(f"{name}: {s}", file=sys.stderr)
    print(f"retrained {len(status) - len(bad)} of {len(status)} models into {a.out_root}")
    return 1 if bad else 0


def _cmd_adopt(a) -> int:
    from .checkpoint import read_config
    from .tools.retrain import adopt

    dest = adopt(a.kept, a.dest, a.provenance)
    print(f"wrote {dest}: its command replays step {read_config(dest)['step']}; measure it with eval --write-card")
    return 0


def _cmd_export(a) -> int:
    from . import api

    r = api.export(a.model, a.format, a.out, a.direction)
    check = "" if r["max_abs_diff"] is None else f"; onnxruntime vs PyTorch max |diff| {r['max_abs_diff']:.2e}"
    print(f"wrote {r['path']} ({r['format']}, inputs {r['inputs']}){check}")
    return 0


COMMANDS = {"list": _cmd_list, "train": _cmd_train, "sample": _cmd_sample, "summary": _cmd_summary, "settings": _cmd_settings,
            "eval": _cmd_eval, "bench": _cmd_bench, "loadtest": _cmd_loadtest, "train-classifier": _cmd_train_classifier,
            "card": _cmd_card, "lessons": _cmd_lessons, "translate": _cmd_translate, "upscale": _cmd_upscale, "mix": _cmd_mix,
            "export": _cmd_export, "retrain": _cmd_retrain, "text": _cmd_text, "invert": _cmd_invert,
            "edit": _cmd_edit, "adopt": _cmd_adopt}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return COMMANDS[args.cmd](args)
    except PlaygroundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""The facade. The UI and the CLI call only these functions.

    list_models() / list_families() / list_datasets()
    load(name)                         -> LoadedModel (cached)
    sample(name, n, seed, labels=None) -> uint8 [N, H, W, C], deterministic for a seed
    interpolate(name, seed_a, seed_b, steps, label=None) -> uint8 [steps, H, W, C]
    train(spec, stop_event)            -> iterator of engine Events
    evaluate(name, metrics, ...)       -> dict of results with provenance
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from . import registry
from .data.base import dataset_names, to_uint8
from .device import pick_device
from .engine.jobs import JobManager, Limits
from .engine.trainer import Event, TrainSpec, train as _train
from .runs_io import export_zip as export_run, extract_image_zip, import_zip as import_run
from .errors import PlaygroundError
from .imaging import grid, to_pil
from .models import LoadedModel, load_model

__all__ = ["TrainSpec", "Event", "JobManager", "Limits", "export_run", "import_run", "extract_image_zip", "list_models", "list_families", "list_datasets", "load", "sample",
           "sample_with_labels", "interpolate", "translate", "translate_batch", "upscale",
           "check_against_ground_truth", "style_mix", "truncation_strip", "latent_walk", "write_samples", "train", "evaluate", "MAX_SAMPLES"]

MAX_SAMPLES = 1024
MAX_SEED = 2**32 - 1


def list_families() -> list[str]:
    return registry.family_names()


def list_datasets() -> list[str]:
    return dataset_names()


def _model_entry(name: str, path: Path, desc: str) -> dict:
    from .checkpoint import read_config

    meta = read_config(path)
    return {"name": name, "family": meta["family"], "description": desc, "dataset": meta.get("dataset"),
            "conditional": meta["config"].get("num_classes", 0) > 0, "step": meta.get("step"),
            "class_names": meta.get("class_names", []), "metrics": meta.get("metrics", {}), "path": str(path)}


def list_models(runs_dir: str | Path | None = None) -> list[dict]:
    """Shipped models whose checkpoint is present, then (optionally) the runs trained or uploaded
    on this server: each with family, dataset and measured metrics. A run's name is its path."""
    out = [_model_entry(name, path, desc) for name, (path, desc) in registry.shipped_models().items()
           if (path / "config.json").is_file()]
    if runs_dir and Path(runs_dir).is_dir():
        for path in sorted(Path(runs_dir).iterdir()):
            if (path / "config.json").is_file() and (path / "model.safetensors").is_file():
                try:
                    entry = _model_entry(str(path), path, "")
                except PlaygroundError:
                    continue  # a half-copied or foreign folder is not a model; skip it
                entry["description"] = f"your run {path.name}: {entry['family']} on {entry['dataset']}, step {entry['step']}"
                out.append(entry)
    return out


def load(name: str) -> LoadedModel:
    return load_model(name, str(pick_device()))


def _check_n_seed(n: int, seed: int) -> None:
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
        raise PlaygroundError(f"n must be between 1 and {MAX_SAMPLES}, got {n}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise PlaygroundError(f"seed must be an integer between 0 and {MAX_SEED}, got {seed}")


def _labels_for(model: LoadedModel, n: int, labels: Sequence[int] | None) -> torch.Tensor | None:
    K = model.num_classes
    if not K:
        if labels is not None:
            raise PlaygroundError(f"{model.name} is unconditional: it takes no class labels")
        return None
    if labels is None:
        return torch.arange(n) % K                     # cycle through the classes
    c = torch.as_tensor(list(labels), dtype=torch.long)
    if c.ndim != 1 or len(c) != n:
        raise PlaygroundError(f"give one label per sample ({n}), got {len(c)}")
    bad = c[(c < 0) | (c >= K)]
    if len(bad):
        raise PlaygroundError(f"invalid class {int(bad[0])} for {model.name}: choose 0..{K - 1}")
    return c


def latents(model: LoadedModel, n: int, seed: int) -> torch.Tensor:
    """z for a seed: a private CPU generator, so the same seed gives the same z on any device."""
    g = torch.Generator().manual_seed(int(seed))
    if hasattr(model.G, "sample_latent"):  # e.g. InfoGAN: noise plus uniform codes
        return model.G.sample_latent(n, g)
    return torch.randn(n, model.G.z_dim, generator=g)


def with_controls(model: LoadedModel, z: torch.Tensor, controls: dict) -> torch.Tensor:
    """Family-specific sampling controls (e.g. InfoGAN's code_cont); unknown ones are errors."""
    controls = {k: v for k, v in controls.items() if v is not None}
    if not controls:
        return z
    if not hasattr(model.G, "apply_controls"):
        raise PlaygroundError(f"{model.name} takes no sampling controls ({', '.join(sorted(controls))})")
    try:
        return model.G.apply_controls(z, **controls)
    except (TypeError, RuntimeError, ValueError) as e:
        raise PlaygroundError(f"invalid controls for {model.name}: {e}") from None


@torch.no_grad()
def _generate(model: LoadedModel, z: torch.Tensor, c: torch.Tensor | None) -> np.ndarray:
    dev = next(model.G.parameters()).device
    x = model.G(z.to(dev)) if c is None else model.G(z.to(dev), c.to(dev))
    return to_uint8(x).numpy()


def sample_with_labels(name: str, n: int, seed: int, labels: Sequence[int] | None = None,
                       **controls) -> tuple[np.ndarray, np.ndarray | None]:
    _check_n_seed(n, seed)
    model = load(name)
    if model.family == "cyclegan":
        raise PlaygroundError(f"{name} translates images between two domains: use translate, not sample")
    if model.family == "srgan":
        raise PlaygroundError(f"{name} is a super-resolution model: use upscale, not sample")
    c = _labels_for(model, n, labels)
    images = _generate(model, with_controls(model, latents(model, n, seed), controls), c)
    return images, (None if c is None else c.numpy())


def sample(name: str, n: int, seed: int, labels: Sequence[int] | None = None, **controls) -> np.ndarray:
    """uint8 [N, H, W, C]; the same (name, n, seed, labels) always gives the same images."""
    return sample_with_labels(name, n, seed, labels, **controls)[0]


def interpolate(name: str, seed_a: int, seed_b: int, steps: int = 10,
                label: int | None = None) -> np.ndarray:
    """Spherical interpolation between the latents of two seeds: uint8 [steps, H, W, C]."""
    _check_n_seed(1, seed_a)
    _check_n_seed(1, seed_b)
    if not 2 <= steps <= 64:
        raise PlaygroundError(f"steps must be between 2 and 64, got {steps}")
    model = load(name)
    za, zb = latents(model, 1, seed_a)[0], latents(model, 1, seed_b)[0]
    omega = torch.arccos((za / za.norm()).dot(zb / zb.norm()).clamp(-1, 1))
    t = torch.linspace(0, 1, steps)[:, None]
    if omega.abs() < 1e-6:
        z = (1 - t) * za + t * zb
    else:
        z = (torch.sin((1 - t) * omega) * za + torch.sin(t * omega) * zb) / torch.sin(omega)
    c = _labels_for(model, steps, None if label is None else [label] * steps)
    return _generate(model, z, c)


CODE_SWEEP_VALUES = (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)   # the figures' columns: UI tab, cards


def code_sweep(name: str, seed: int, code: int, values: Sequence[float],
               code_cont: Sequence[float] | None = None) -> np.ndarray:
    """InfoGAN figure: rows = categorical values, columns = continuous code `code` swept over
    `values`, same noise everywhere. uint8 [rows * cols, H, W, C] in row-major order."""
    _check_n_seed(1, seed)
    model = load(name)
    G = model.G
    if not hasattr(G, "n_cont"):
        raise PlaygroundError(f"{name} has no latent codes to sweep (not an InfoGAN)")
    if not 0 <= code < G.n_cont:
        raise PlaygroundError(f"code must be 0..{G.n_cont - 1}, got {code}")
    K, cols = G.num_classes, len(values)
    base = with_controls(model, latents(model, 1, seed), {"code_cont": code_cont or [0.0] * G.n_cont})
    z = base.repeat(K * cols, 1)
    z[:, G.noise_dim + code] = torch.tensor([float(v) for v in values]).repeat(K)
    c = torch.arange(K).repeat_interleave(cols)
    return _generate(model, z, c)


MAX_MIX_SEEDS = 12


def _mix_seeds(seeds: Sequence[int], what: str) -> list[int]:
    seeds = list(seeds)
    if not 1 <= len(seeds) <= MAX_MIX_SEEDS:
        raise PlaygroundError(f"{what}: give 1 to {MAX_MIX_SEEDS} seeds, got {len(seeds)}")
    for s in seeds:
        _check_n_seed(1, s)
    return seeds


def style_mix(name: str, row_seeds: Sequence[int], col_seeds: Sequence[int], crossover="coarse",
              truncation: float = 1.0, noise: str = "const", noise_seed: int = 0) -> dict:
    """StyleGAN mixing grid: top row = source A (row_seeds), left column = source B (col_seeds),
    cell (i, j) = B_i with A_j's styles on the crossover layers ("coarse" | "middle" | "fine", an
    int k for layers [0, k), or (start, stop)). Returns {"grid": uint8 [H, W, C], "cells":
    uint8 [nB, nA, h, w, c], "sources_a", "sources_b", "layers", "layer_resolutions", "num_ws"}."""
    from . import style_ops

    return style_ops.style_mix(load(name), _mix_seeds(row_seeds, "row seeds"), _mix_seeds(col_seeds, "column seeds"),
                               crossover, truncation, noise, noise_seed)


def truncation_strip(name: str, seed: int, psis: Sequence[float] = tuple(np.linspace(-1, 1, 9)),
                     noise: str = "const") -> np.ndarray:
    """One seed at each truncation psi (w_avg + psi (w - w_avg)): uint8 [len(psis), H, W, C]."""
    from . import style_ops

    _check_n_seed(1, seed)
    return style_ops.truncation_strip(load(name), seed, psis, noise)


def latent_walk(name: str, seed_a: int, seed_b: int, frames: int = 24, truncation: float = 1.0,
                noise: str = "const") -> np.ndarray:
    """A there-and-back walk in W between two seeds: uint8 [frames, H, W, C]."""
    from . import style_ops

    _check_n_seed(1, seed_a)
    _check_n_seed(1, seed_b)
    return style_ops.latent_walk(load(name), seed_a, seed_b, frames, truncation, noise)


def _translator(name: str) -> LoadedModel:
    model = load(name)
    if not hasattr(model.G, "G_AB"):
        raise PlaygroundError(f"{name} is a {model.family} model, not a two-domain translator")
    return model


def _check_direction(direction: str) -> None:
    if direction not in ("a2b", "b2a"):
        raise PlaygroundError(f"direction must be 'a2b' or 'b2a', not {direction!r}")


@torch.no_grad()
def translate(name: str, image, direction: str = "a2b") -> dict:
    """Translate one image (path, bytes, PIL or uint8 array; any mode and size).

    Returns {"input", "translated", "reconstructed"} as uint8 [H, W, C], the domain names, and
    "conversions": what was done to the input to match the model (greyscale, crop, resize...)."""
    from .imageio import open_image, to_model_input

    _check_direction(direction)
    model = _translator(name)
    T = model.G
    arr, steps = to_model_input(open_image(image), T.img_resolution, T.img_channels, dark_background=True)
    dev = next(T.parameters()).device
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1).to(dev)
    back = "b2a" if direction == "a2b" else "a2b"
    y = T(x, direction)
    rec = T(y, back)
    src, dst = (T.domain_names if direction == "a2b" else T.domain_names[::-1])
    return {"input": arr, "translated": to_uint8(y).numpy()[0], "reconstructed": to_uint8(rec).numpy()[0],
            "source": src, "target": dst, "conversions": steps or ["none: the image already matched"]}


@torch.no_grad()
def translate_batch(name: str, direction: str = "a2b", n: int = 16, seed: int = 0) -> np.ndarray:
    """n held-out test images of the source domain: rows of inputs, translations, reconstructions."""
    from .data import load_dataset

    _check_direction(direction)
    _check_n_seed(n, seed)
    model = _translator(name)
    T, cfg = model.G, model.meta["config"]
    src = cfg["domain_a"] if direction == "a2b" else cfg["domain_b"]
    ds = load_dataset(model.meta["dataset"].split(":")[0] + f":{src}", "test")
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    x = ds.images[idx].float().div(127.5).sub(1).to(next(T.parameters()).device)
    y = T(x, direction)
    rec = T(y, "b2a" if direction == "a2b" else "a2b")
    cols = min(n, 8)
    rows = []
    for i in range(0, len(x), cols):  # input row, translated row, reconstructed row per chunk
        rows += [x[i:i + cols], y[i:i + cols], rec[i:i + cols]]
    return grid(to_uint8(torch.cat(rows)).numpy(), nrow=cols)


SR_MAX_PIXELS = int(os.environ.get("PLAYGROUND_SR_MAX_PIXELS", 1024 * 1024))


def _upscaler(name: str) -> LoadedModel:
    model = load(name)
    if not hasattr(model.G, "scale"):
        raise PlaygroundError(f"{name} is a {model.family} model, not a super-resolution model")
    return model


@torch.no_grad()
def _sr_tiled(G, lr: torch.Tensor, tile: int = 128, overlap: int = 24) -> torch.Tensor:
    """Upscale [1, C, h, w] in overlapping tiles; each tile contributes only its core, so with an
    overlap beyond the receptive field the result equals whole-image inference."""
    _, c, h, w = lr.shape
    s = G.scale
    if h <= tile and w <= tile:
        return G(lr)
    core = tile - 2 * overlap
    out = torch.empty(1, c, h * s, w * s, device=lr.device)
    for y in range(0, h, core):
        for x in range(0, w, core):
            y0, x0 = max(0, y - overlap), max(0, x - overlap)
            y1, x1 = min(h, y + core + overlap), min(w, x + core + overlap)
            sr = G(lr[:, :, y0:y1, x0:x1])
            cy, cx = min(core, h - y), min(core, w - x)
            out[:, :, y * s:(y + cy) * s, x * s:(x + cx) * s] = \
                sr[:, :, (y - y0) * s:(y - y0 + cy) * s, (x - x0) * s:(x - x0 + cx) * s]
    return out


def _to_tensor(arr: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(np.array(arr, dtype=np.uint8, copy=True)).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1).to(device)


def upscale(name: str, image, tile: int = 128) -> dict:
    """Super-resolve any image x4 (path, bytes, PIL or uint8 array). Returns {"sr", "bicubic"}
    uint8 [H*4, W*4, 3] and "conversions" (what was done to the input)."""
    from .families.srgan import bicubic_up
    from .imageio import normalise_mode, open_image

    model = _upscaler(name)
    G = model.G
    im, steps = normalise_mode(open_image(image), 3, dark_background=False)
    if im.size[0] * im.size[1] > SR_MAX_PIXELS:
        raise PlaygroundError(f"input is {im.size[0]}x{im.size[1]}; the limit for upscaling is "
                              f"{SR_MAX_PIXELS:,} pixels (PLAYGROUND_SR_MAX_PIXELS)")
    arr = np.asarray(im, dtype=np.uint8)
    lr = _to_tensor(arr, next(G.parameters()).device)
    sr = _sr_tiled(G, lr, tile=tile).clamp(-1, 1)
    return {"sr": to_uint8(sr).numpy()[0], "bicubic": to_uint8(bicubic_up(lr, G.scale)).numpy()[0],
            "conversions": steps or ["none: the image was already 8-bit RGB"],
            "input_size": im.size, "output_size": (im.size[0] * G.scale, im.size[1] * G.scale)}


def check_against_ground_truth(name: str, image) -> dict:
    """Downsample the given (HR) image x4, upscale it back with the model and with bicubic, and
    measure both against the original: PSNR/SSIM on Y with a 4-px border shave."""
    from .eval.sr_metrics import psnr_y, ssim_y
    from .families.srgan import bicubic_down
    from .imageio import normalise_mode, open_image

    model = _upscaler(name)
    s = model.G.scale
    im, steps = normalise_mode(open_image(image), 3, dark_background=False)
    hr = np.asarray(im, dtype=np.uint8)
    h, w = hr.shape[0] // s * s, hr.shape[1] // s * s
    if h < 8 * s or w < 8 * s:
        raise PlaygroundError(f"image is too small to check: need at least {8 * s}x{8 * s}")
    hr = hr[:h, :w]
    lr = to_uint8(bicubic_down(_to_tensor(hr, "cpu"), s)).numpy()[0]
    res = upscale(name, lr)
    metrics = {"psnr_bicubic": psnr_y(res["bicubic"], hr, s), "psnr_model": psnr_y(res["sr"], hr, s),
               "ssim_bicubic": ssim_y(res["bicubic"], hr, s), "ssim_model": ssim_y(res["sr"], hr, s)}
    return {"hr": hr, "lr": lr, "sr": res["sr"], "bicubic": res["bicubic"], "metrics": metrics,
            "conversions": steps}


def write_samples(out: str | Path, images: np.ndarray, labels: np.ndarray | None,
                  nrow: int | None = None) -> Path:
    """.png: one grid; .npz: images uint8 [N,H,W,C] (+ labels int64 [N]). Atomic."""
    out = Path(out)
    if out.suffix not in (".png", ".npz"):
        raise PlaygroundError(f"output must be .png or .npz, not {out.name!r}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise PlaygroundError(f"cannot write {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PlaygroundError(f"cannot write {out}: permission denied")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{out.name}.", suffix=out.suffix)
    os.close(fd)
    try:
        if out.suffix == ".png":
            to_pil(grid(images, nrow or math.ceil(math.sqrt(len(images))))).save(tmp, format="PNG")
        else:
            arrays = {"images": images.astype(np.uint8)}
            if labels is not None:
                arrays["labels"] = labels.astype(np.int64)
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        os.replace(tmp, out)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise PlaygroundError(f"cannot write {out}: {e.strerror}") from None
    return out


def train(spec: TrainSpec, stop_event: threading.Event | None = None) -> Iterator[Event]:
    return _train(spec, stop_event)


def evaluate(name: str, metrics: Sequence[str] = ("fid",), n: int = 10_000, seed: int = 0,
             write_card: bool = False, inception_weights: str | None = None, feature_net: str = "auto",
             progress=None) -> dict:
    """Metrics with provenance; see playground.eval. `n` = generated samples in total."""
    from .eval.run import evaluate_model

    return evaluate_model(name, list(metrics), n=n, seed=seed, write_card=write_card,
                          inception_weights=inception_weights, feature_net=feature_net, progress=progress)

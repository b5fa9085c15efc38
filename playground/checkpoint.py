"""Checkpoints: `model.safetensors` + `config.json`, plus `trainer_state.*` for exact resume.

No pickles anywhere: tensors go to safetensors, everything else to JSON. Every file is written to
a temporary name in the same directory and renamed into place, and `config.json` (which names the
step) is renamed last, so a kill mid-save leaves the previous checkpoint readable. Each
safetensors file also carries its step in its own metadata, so a resume never pairs weights from
one save with counters from another.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .contract.settings import upgrade_config
from .errors import PlaygroundError

FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATE_TENSORS = "trainer_state.safetensors"
STATE_JSON = "trainer_state.json"


def _atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then rename the temp file over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(path: Path, obj: Any) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")

    _atomic_write(path, write)


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor], step: int) -> None:
    """The step goes into the file's own metadata: a file written by another save than the JSON
    beside it (a kill between two renames) is recognised on load."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"step": str(int(step))}))


def tensors_step(path: Path) -> int | None:
    """The step recorded in a safetensors file by `save` (None for files written before that)."""
    try:
        with safe_open(str(path), "pt") as f:
            step = (f.metadata() or {}).get("step")
    except (SafetensorError, OSError, ValueError) as e:
        raise PlaygroundError(f"corrupt checkpoint file {path}: {e}") from None
    return None if step is None else int(step)


def ensure_writable_dir(path: str | Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlaygroundError(f"cannot create output directory {path}: {e.strerror}") from None
    if not os.access(path, os.W_OK):
        raise PlaygroundError(f"output directory {path} is not writable")
    return path


# ---- nested state (optimizer state dicts, RNG states) <-> flat tensors + JSON ----

def flatten_state(obj: Any, tensors: dict[str, torch.Tensor], prefix: str = "") -> Any:
    """Replace every tensor in a nested structure by a reference; collect the tensors."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[k, flatten_state(v, tensors, f"{prefix}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [flatten_state(v, tensors, f"{prefix}.{i}") for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix} in a checkpoint")


def unflatten_state(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__dict__" in obj:
            return {k: unflatten_state(v, tensors) for k, v in obj["__dict__"]}
        if "__list__" in obj:
            return [unflatten_state(v, tensors) for v in obj["__list__"]]
    return obj


# ---- public API ----

def save(
    out_dir: str | Path,
    *,
    family: str,
    config: dict,
    model_state: dict[str, torch.Tensor],
    step: int,
    meta: dict | None = None,
    trainer_state: dict | None = None,
    half: bool = False,
) -> Path:
    """Write a checkpoint directory. `model_state` is what inference needs (the generator)."""
    out = ensure_writable_dir(out_dir)
    if half:
        model_state = {k: v.half() if v.is_floating_point() else v for k, v in model_state.items()}
    _write_tensors(out / MODEL_FILE, model_state, step)
    if trainer_state is not None:
        tensors: dict[str, torch.Tensor] = {}
        tree = flatten_state(trainer_state, tensors, "s")
        _write_tensors(out / STATE_TENSORS, tensors, step)
        _write_json(out / STATE_JSON, {"step": step, "tree": tree})
    cfg = {"format_version": FORMAT_VERSION, "family": family, "config": config, "step": step}
    cfg.update(meta or {})
    _write_json(out / CONFIG_FILE, cfg)
    return out


def copy_inference(src: str | Path, dest: str | Path) -> Path:
    """Copy a checkpoint's inference part (weights + config, no trainer state) to `dest`."""
    src, dest = Path(src), ensure_writable_dir(dest)
    for name in (MODEL_FILE, CONFIG_FILE):
        data = (src / name).read_bytes()
        _atomic_write(dest / name, lambda tmp, data=data: Path(tmp).write_bytes(data))
    return dest


def keep_copy(ckpt_dir: str | Path, step: int) -> Path:
    """Copy a checkpoint's inference part to `ckpt_dir/steps/STEP`, so that a long run leaves every
    checkpoint behind to evaluate and pick from (`train --keep-checkpoints`)."""
    return copy_inference(ckpt_dir, Path(ckpt_dir) / "steps" / f"{int(step):07d}")


def read_config(ckpt_dir: str | Path) -> dict:
    ckpt_dir = Path(ckpt_dir)
    path = ckpt_dir / CONFIG_FILE
    if not path.is_file():
        raise PlaygroundError(f"{ckpt_dir} is not a checkpoint: no {CONFIG_FILE}")
    try:
        cfg = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlaygroundError(f"corrupt checkpoint {path}: {e}") from None
    if not isinstance(cfg, dict) or "family" not in cfg or "config" not in cfg:
        raise PlaygroundError(f"corrupt checkpoint {path}: missing 'family' or 'config'")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise PlaygroundError(
            f"checkpoint {ckpt_dir} has format_version {cfg.get('format_version')!r}; "
            f"this playground reads version {FORMAT_VERSION}")
    if isinstance(cfg["config"], dict):       # a checkpoint written before a setting was renamed
        cfg["config"] = upgrade_config(cfg["config"])
    return cfg


def update_meta(ckpt_dir: str | Path, **fields) -> dict:
    """Merge fields (e.g. measured metrics) into config.json, atomically."""
    cfg = read_config(ckpt_dir)
    cfg.update(fields)
    _write_json(Path(ckpt_dir) / CONFIG_FILE, cfg)
    return cfg


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise PlaygroundError(f"checkpoint file missing: {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise PlaygroundError(f"corrupt checkpoint file {path}: {e}") from None


def load_model_state(ckpt_dir: str | Path) -> dict[str, torch.Tensor]:
    return _load_tensors(Path(ckpt_dir) / MODEL_FILE)


def load_trainer_state(ckpt_dir: str | Path) -> dict:
    ckpt_dir = Path(ckpt_dir)
    cfg = read_config(ckpt_dir)
    jpath = ckpt_dir / STATE_JSON
    if not jpath.is_file():
        raise PlaygroundError(f"{ckpt_dir} has no trainer state to resume from ({STATE_JSON})")
    try:
        meta = json.loads(jpath.read_text())
    except json.JSONDecodeError as e:
        raise PlaygroundError(f"corrupt trainer state {jpath}: {e}") from None
    if meta.get("step") != cfg.get("step"):
        raise PlaygroundError(
            f"inconsistent checkpoint in {ckpt_dir}: trainer state is at step {meta.get('step')}, "
            f"config at step {cfg.get('step')} (interrupted save?)")
    tensors_at = tensors_step(ckpt_dir / STATE_TENSORS) if (ckpt_dir / STATE_TENSORS).is_file() else None
    if tensors_at is not None and tensors_at != cfg.get("step"):
        raise PlaygroundError(
            f"inconsistent checkpoint in {ckpt_dir}: the trainer state's tensors are from step {tensors_at}, "
            f"its counters from step {cfg.get('step')} (a save was interrupted); resume from an earlier copy")
    tensors = _load_tensors(ckpt_dir / STATE_TENSORS)
    return unflatten_state(meta["tree"], tensors)


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """load_state_dict with a one-line error when shapes or keys don't match the config."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or bad:
        detail = []
        if missing:
            detail.append(f"missing {missing[:3]}")
        if extra:
            detail.append(f"unexpected {extra[:3]}")
        if bad:
            k = bad[0]
            detail.append(f"{k} has shape {tuple(state[k].shape)}, config says {tuple(own[k].shape)}")
        raise PlaygroundError(f"checkpoint {where} does not match its config: " + "; ".join(detail))
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})

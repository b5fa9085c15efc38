"""Moving trained runs in and out of a server: download as zip, upload back (validated)."""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .. import checkpoint
from ..errors import PlaygroundError
from .access import write_access
from ..models import build_from_config
from .storage import DiskBudget, OutputFolder

ALLOWED = {checkpoint.MODEL_FILE, checkpoint.CONFIG_FILE}
MAX_ZIP_BYTES = 200 * 2**20
MAX_IMAGES_ZIP_BYTES = 100 * 2**20
MAX_UPLOAD_PARAMS = 20_000_000      # the largest shipped generator has ~1.5M


def check_run_config(meta: dict, weights: Path, max_resolution: int, max_params: int = MAX_UPLOAD_PARAMS) -> None:
    """Refuse an uploaded run whose config asks for too much, *before* any real net is built:
    the resolution against the server's limit, then the net is built on the meta device (no
    memory) to count its parameters and compare every shape with the weights file's header."""
    cfg = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    res = cfg.get("img_resolution")
    if not isinstance(res, int) or not 0 <= res <= max_resolution:
        raise PlaygroundError(f"the run's img_resolution {res!r} is above this server's limit of {max_resolution}")
    try:
        with torch.device("meta"):
            G = build_from_config(meta)
    except (RuntimeError, NotImplementedError, OverflowError, MemoryError) as e:
        raise PlaygroundError(f"the run's config cannot be built: {type(e).__name__}") from None
    n = sum(t.numel() for t in G.state_dict().values())
    if n > max_params:
        raise PlaygroundError(f"the run's generator has {n:,} weights; this server accepts at most {max_params:,}")
    try:
        with safe_open(str(weights), "pt") as f:
            found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise PlaygroundError(f"model.safetensors in the upload is not a valid safetensors file ({e})") from None
    expected = {k: tuple(v.shape) for k, v in G.state_dict().items()}
    if found != expected:
        wrong = sorted(set(found) ^ set(expected)) or [k for k in expected if found[k] != expected[k]]
        raise PlaygroundError(f"model.safetensors does not match the config ({len(wrong)} tensors differ, e.g. {wrong[0]})")


def export_zip(ckpt_dir: str | Path, outputs: OutputFolder | None = None) -> Path:
    """A zip with model.safetensors + config.json (what `import_zip` accepts), in the bounded
    output folder (the system temp folder's `playground-outputs` by default)."""
    ckpt_dir = Path(ckpt_dir)
    checkpoint.read_config(ckpt_dir)
    outputs = outputs or OutputFolder()
    path = outputs.new_path(ckpt_dir.name, ".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(ALLOWED):
            z.write(ckpt_dir / name, name)
    outputs.trim(keep=path)
    return path


def import_zip(zip_path: str | Path, runs_dir: str | Path, max_resolution: int = 64,
               max_params: int = MAX_UPLOAD_PARAMS, budget: DiskBudget | None = None, protect=(),
               owner: str | None = None) -> Path:
    """Validate an uploaded run and install it under runs_dir/uploaded-<id>.

    Accepted: exactly model.safetensors + config.json, a known family, a config within the
    server's limits (checked before any net is built), weights whose names and shapes match what
    the config builds. Anything else is refused with one clear line. With a `budget`, room is
    made first (least recently used runs go); with an `owner`, the run is private to it.
    """
    zip_path = Path(zip_path)
    if zip_path.stat().st_size > MAX_ZIP_BYTES:
        raise PlaygroundError(f"upload is larger than {MAX_ZIP_BYTES // 2**20} MB")
    try:
        with zipfile.ZipFile(zip_path) as z:
            names = {Path(n).name for n in z.namelist() if not n.endswith("/")}
            if names != ALLOWED:
                raise PlaygroundError(f"a run zip must hold exactly {sorted(ALLOWED)}; found {sorted(names)}")
            members = {Path(n).name: n for n in z.namelist() if not n.endswith("/")}
            if sum(z.getinfo(m).file_size for m in members.values()) > MAX_ZIP_BYTES:
                raise PlaygroundError("upload unpacks to more than the size limit")
            blobs = {name: z.read(member) for name, member in members.items()}
    except zipfile.BadZipFile:
        raise PlaygroundError("upload is not a zip file") from None
    try:
        meta = json.loads(blobs[checkpoint.CONFIG_FILE])
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlaygroundError(f"config.json in the upload is not valid JSON: {e}") from None
    if budget is not None:
        budget.make_room(sum(len(b) for b in blobs.values()), protect=protect)
    dest = Path(runs_dir) / f"uploaded-{uuid.uuid4().hex[:8]}"
    staging = Path(runs_dir) / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for name, data in blobs.items():
            (staging / name).write_bytes(data)
        meta = checkpoint.read_config(staging)          # format version, family, config present
        check_run_config(meta, staging / checkpoint.MODEL_FILE, max_resolution, max_params)
        G = build_from_config(meta)                       # known family, valid config
        checkpoint.load_into(G, checkpoint.load_model_state(staging), "upload")  # shapes match
        if owner is not None:
            write_access(staging, owner)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def extract_image_zip(zip_path: str | Path, dest_root: str | Path, budget: DiskBudget | None = None,
                      protect=()) -> Path:
    """An uploaded zip of images -> a folder (class sub-folders kept). Only image files are taken;
    the unpacked size is checked (and, with a `budget`, made room for) before anything is written."""
    from ..data.folder import EXTENSIONS

    zip_path = Path(zip_path)
    if zip_path.stat().st_size > MAX_IMAGES_ZIP_BYTES:
        raise PlaygroundError(f"image zip is larger than {MAX_IMAGES_ZIP_BYTES // 2**20} MB")
    dest = Path(dest_root) / f"upload-{uuid.uuid4().hex[:8]}"
    try:
        with zipfile.ZipFile(zip_path) as z:
            infos = [i for i in z.infolist() if not i.is_dir() and Path(i.filename).suffix.lower() in EXTENSIONS]
            if not infos:
                raise PlaygroundError("the zip holds no images (png, jpg, bmp, webp, gif)")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > 4 * MAX_IMAGES_ZIP_BYTES:
                raise PlaygroundError("the zip unpacks to too much data")
            if budget is not None:
                budget.make_room(unpacked, protect=protect)
            for info in infos:
                parts = [p for p in Path(info.filename).parts if p not in ("..", "/", "")]
                rel = Path(*parts[-2:]) if len(parts) >= 2 else Path(parts[-1])  # class/file.png
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(info))
    except zipfile.BadZipFile:
        raise PlaygroundError("upload is not a zip file") from None
    return dest

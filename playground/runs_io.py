"""Moving trained runs in and out of a server: download as zip, upload back (validated)."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

from . import checkpoint
from .errors import PlaygroundError
from .models import build_from_config

ALLOWED = {checkpoint.MODEL_FILE, checkpoint.CONFIG_FILE}
MAX_ZIP_BYTES = 200 * 2**20
MAX_IMAGES_ZIP_BYTES = 100 * 2**20


def export_zip(ckpt_dir: str | Path) -> Path:
    """A zip with model.safetensors + config.json (what `import_zip` accepts)."""
    ckpt_dir = Path(ckpt_dir)
    checkpoint.read_config(ckpt_dir)
    fd, tmp = tempfile.mkstemp(prefix=f"{ckpt_dir.name}-", suffix=".zip")
    with zipfile.ZipFile(open(fd, "wb"), "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(ALLOWED):
            z.write(ckpt_dir / name, name)
    return Path(tmp)


def import_zip(zip_path: str | Path, runs_dir: str | Path) -> Path:
    """Validate an uploaded run and install it under runs_dir/uploaded-<id>.

    Accepted: exactly model.safetensors + config.json, a known family, weights whose names and
    shapes match what the config builds. Anything else is refused with one clear line.
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
    dest = Path(runs_dir) / f"uploaded-{uuid.uuid4().hex[:8]}"
    staging = Path(runs_dir) / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for name, data in blobs.items():
            (staging / name).write_bytes(data)
        meta = checkpoint.read_config(staging)          # format version, family, config present
        G = build_from_config(meta)                       # known family, valid config
        checkpoint.load_into(G, checkpoint.load_model_state(staging), "upload")  # shapes match
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def extract_image_zip(zip_path: str | Path, dest_root: str | Path) -> Path:
    """An uploaded zip of images -> a folder (class sub-folders kept). Only image files are taken."""
    from .data.folder import EXTENSIONS

    zip_path = Path(zip_path)
    if zip_path.stat().st_size > MAX_IMAGES_ZIP_BYTES:
        raise PlaygroundError(f"image zip is larger than {MAX_IMAGES_ZIP_BYTES // 2**20} MB")
    dest = Path(dest_root) / f"upload-{uuid.uuid4().hex[:8]}"
    try:
        with zipfile.ZipFile(zip_path) as z:
            infos = [i for i in z.infolist() if not i.is_dir() and Path(i.filename).suffix.lower() in EXTENSIONS]
            if not infos:
                raise PlaygroundError("the zip holds no images (png, jpg, bmp, webp, gif)")
            if sum(i.file_size for i in infos) > 4 * MAX_IMAGES_ZIP_BYTES:
                raise PlaygroundError("the zip unpacks to too much data")
            for info in infos:
                parts = [p for p in Path(info.filename).parts if p not in ("..", "/", "")]
                rel = Path(*parts[-2:]) if len(parts) >= 2 else Path(parts[-1])  # class/file.png
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(info))
    except zipfile.BadZipFile:
        raise PlaygroundError("upload is not a zip file") from None
    return dest

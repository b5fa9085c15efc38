"""Who may use a run folder on a shared server.

A run trained or uploaded through the app records its owner (a hash of the browser session that
made it) and whether the owner shared it, in `access.json`. A folder without that file was put
there by whoever runs the server (e.g. `python -m playground train --out runs/ui/...`): public.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import PlaygroundError

ACCESS_FILE = "access.json"


def owner_key(owner: str) -> str:
    """Session ids are never written to disk, only their hash."""
    return hashlib.sha256(owner.encode()).hexdigest()[:32]


def _read(run_dir: Path) -> dict | None:
    try:
        return json.loads((Path(run_dir) / ACCESS_FILE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"owner": "?", "shared": False}     # unreadable: private to nobody, not public


def write_access(run_dir: str | Path, owner: str, shared: bool = False) -> None:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{ACCESS_FILE}.tmp"
    tmp.write_text(json.dumps({"owner": owner_key(owner), "shared": bool(shared)}))
    os.replace(tmp, run_dir / ACCESS_FILE)


def is_owner(run_dir: str | Path, owner: str | None) -> bool:
    info = _read(Path(run_dir))
    return info is None or (owner is not None and info.get("owner") == owner_key(owner))


def can_use(run_dir: str | Path, owner: str | None) -> bool:
    """Public folders, shared runs, and the owner's own runs."""
    info = _read(Path(run_dir))
    return info is None or bool(info.get("shared")) or (owner is not None and info.get("owner") == owner_key(owner))


def latest_owned(runs_dir: str | Path, owner: str) -> Path | None:
    """The owner's most recently changed run folder (trained or uploaded) under runs_dir."""
    key = owner_key(owner)
    mine = [d for d in Path(runs_dir).glob("*") if d.is_dir() and (_read(d) or {}).get("owner") == key]
    return max(mine, key=lambda d: d.stat().st_mtime, default=None)


def set_shared(run_dir: str | Path, owner: str, shared: bool) -> None:
    info = _read(Path(run_dir))
    if info is not None and info.get("owner") != owner_key(owner):
        raise PlaygroundError("only the visitor who trained or uploaded this run can share it")
    write_access(run_dir, owner, shared)

"""Disk budgets for what visitors make on a shared server.

`DiskBudget` covers a server's runs folder: training runs, uploaded runs, unpacked image uploads
(`_data/`), TensorBoard logs (`_tb/`). Before anything is written, `make_room(nbytes)` evicts the
least recently used entries (never a protected one, e.g. an active run) until the new bytes fit,
or refuses with a clear message. `OutputFolder` is a small bounded folder for generated files
(PNG downloads, run zips, GIFs): each new file pushes out the oldest beyond its byte budget.
Shipped checkpoints live outside both and are never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable

from ..errors import PlaygroundError

DATA_DIR, TB_DIR = "_data", "_tb"


def _env_mb(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class DiskBudget:
    def __init__(self, root: str | Path, max_bytes: int):
        self.root, self.max_bytes = Path(root), int(max_bytes)

    @classmethod
    def from_env(cls, root: str | Path) -> "DiskBudget":
        """PLAYGROUND_MAX_DISK_MB (default 2048) for everything under the runs folder."""
        return cls(root, _env_mb("PLAYGROUND_MAX_DISK_MB", 2048) * 2**20)

    def entries(self) -> list[Path]:
        """What can be evicted, one unit each: a run folder, an unpacked upload, a log folder."""
        if not self.root.is_dir():
            return []
        out = []
        for child in self.root.iterdir():
            if child.name in (DATA_DIR, TB_DIR):
                out += list(child.iterdir()) if child.is_dir() else []
            elif not child.name.startswith("."):
                out.append(child)
        return out

    def usage(self) -> int:
        return tree_size(self.root) if self.root.is_dir() else 0

    def touch(self, path: str | Path) -> None:
        """Mark an entry as just used, so LRU eviction takes others first."""
        try:
            os.utime(path)
        except OSError:
            pass

    def make_room(self, nbytes: int, protect: Iterable[str | Path] = ()) -> None:
        if nbytes > self.max_bytes:
            raise PlaygroundError(f"that needs {nbytes / 2**20:.0f} MB; this server's disk budget is "
                                  f"{self.max_bytes / 2**20:.0f} MB in all")
        keep = {Path(p).resolve() for p in protect}
        used = self.usage()
        victims = sorted((e for e in self.entries() if e.resolve() not in keep), key=_last_used)
        while used + nbytes > self.max_bytes:
            if not victims:
                raise PlaygroundError(f"this server's disk budget ({self.max_bytes / 2**20:.0f} MB) is full with "
                                      "runs in use; try again when a run has finished")
            victim = victims.pop(0)
            size = tree_size(victim)
            shutil.rmtree(victim, ignore_errors=True) if victim.is_dir() else victim.unlink(missing_ok=True)
            used -= size


class OutputFolder:
    """Generated files for download: at most `max_bytes` in all, oldest deleted first. The folder
    is scanned at most every TRIM_EVERY_S seconds (one stat otherwise), so a busy server does not
    pay for a directory scan per request; between scans it can overshoot by what it wrote."""

    TRIM_EVERY_S = 5.0

    def __init__(self, root: str | Path | None = None, max_bytes: int | None = None):
        self.root = Path(root or os.environ.get("PLAYGROUND_OUTPUT_DIR")
                         or Path(tempfile.gettempdir()) / "playground-outputs")
        self.max_bytes = max_bytes if max_bytes is not None else _env_mb("PLAYGROUND_MAX_OUTPUT_MB", 50) * 2**20

    def new_path(self, stem: str, suffix: str) -> Path:
        """A fresh file name here (the caller writes it, then calls `trim`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f"{stem}-{time.strftime('%H%M%S')}-{uuid.uuid4().hex[:6]}{suffix}"

    def trim(self, keep: Path | None = None, force: bool = False) -> None:
        marker = self.root / ".trimmed"
        now = time.time()
        if not force and marker.exists() and now - _last_used(marker) < self.TRIM_EVERY_S:
            return
        marker.touch()
        entries = []
        with os.scandir(self.root) as it:
            for e in it:
                if e.is_file() and not e.name.startswith("."):
                    st = e.stat()
                    entries.append((st.st_mtime, st.st_size, e.path))
        total = 0
        for _, size, path in sorted(entries, reverse=True):   # newest first
            total += size
            if total > self.max_bytes and Path(path) != keep:
                Path(path).unlink(missing_ok=True)

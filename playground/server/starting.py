"""Starting a visitor's run on the server: refuse first, then make disk room, then unpack.

Everything that can refuse a start (limits, settings, the run slot) is checked before an uploaded
zip of images is unpacked for it; a start that fails after unpacking removes what it unpacked.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Callable

from ..engine.trainer import TrainSpec
from ..errors import PlaygroundError
from .access import write_access
from .jobs import JobManager
from .runs_io import extract_image_zip
from .storage import DATA_DIR, DiskBudget

RUN_RESERVE_BYTES = 64 * 2**20       # disk set aside for a new run's checkpoints and logs
UPLOADED = "uploaded zip of images"  # TrainSpec.dataset meaning "the zip sent with this start"


def start_run(jobs: JobManager, budget: DiskBudget, runs_dir: Path, spec: TrainSpec, upload: str | None,
              owner: str, processes: int, protect: Callable[[], list[Path]]) -> str:
    """Start `spec` for `owner` (dataset UPLOADED: the zip at `upload`); returns the run id."""
    if spec.dataset == UPLOADED and not upload:
        raise PlaygroundError("choose a zip of images to upload first (class sub-folders become labels)")
    jobs.check_can_start(spec)               # refuse before unpacking anything
    budget.make_room(min(RUN_RESERVE_BYTES, budget.max_bytes // 4), protect=protect())
    data = None
    if spec.dataset == UPLOADED:
        data = extract_image_zip(upload, runs_dir / DATA_DIR, budget=budget, protect=protect())
        spec = dataclasses.replace(spec, dataset=f"folder:{data}",
                                   command=f"(web UI) train {spec.family} on an uploaded zip of images")
    try:
        run_id = jobs.start(spec, owner=owner, processes=processes)
    except PlaygroundError:
        if data is not None:
            shutil.rmtree(data, ignore_errors=True)
        raise
    write_access(runs_dir / run_id, owner)
    return run_id


def resume_run(jobs: JobManager, spec: TrainSpec, owner: str, processes: int) -> str:
    """Continue `owner`'s latest run to `spec.steps` (its family, data and settings are the run's own)."""
    snap = jobs.status(owner=owner)
    if snap is None:
        raise PlaygroundError("nothing of yours to resume yet: start a run first")
    spec = dataclasses.replace(spec, family=snap["family"], dataset=jobs.get(snap["id"]).spec.dataset, overrides={})
    if spec.steps <= snap["step"]:
        raise PlaygroundError(f"set steps above {snap['step']} to resume (it is the new total)")
    jobs.start(spec, resume_id=snap["id"], owner=owner, processes=processes)
    return snap["id"]

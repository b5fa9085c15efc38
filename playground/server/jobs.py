"""Background training jobs owned by the server, not by a browser tab.

A `JobManager` runs `engine.trainer.train` in a worker thread and keeps one shared snapshot of
each run (step, loss history, latest grid, status). Any number of pollers read that snapshot
under a lock: many users watching one run cost one state read each, never a training step.
Closing a tab does nothing to the run; the run ends when it finishes, is stopped, or fails.

A run belongs to its `owner` (the browser session that started it): only the owner may stop,
resume or download it. Stop sets a flag the engine checks at every batch; a run that still has
not ended FORCE_STOP_S seconds later no longer holds the server's run slot.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import PlaygroundError
from ..registry import get_family
from .storage import TB_DIR
from ..contract import make_config
from .launch import train_processes
from ..steps import PREFIX as HEALTH
from ..engine.trainer import PHASE, TrainSpec, train
from ..eval.resources import training_resources


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


FORCE_STOP_S = 10.0


def _gpu_count() -> int:
    import torch

    return max(1, torch.cuda.device_count())


@dataclass
class Limits:
    """Caps for public deployments, from PLAYGROUND_MAX_* environment variables."""
    max_steps: int = 20_000
    max_batch: int = 256
    max_resolution: int = 64
    max_concurrent: int = 1
    max_n_critic: int = 20
    max_processes: int = 1               # local processes per run (torchrun); default: one per GPU

    def setting_caps(self) -> dict[str, int]:
        """The caps that family settings name in their `limit` (contract/settings.py)."""
        return {"max_n_critic": self.max_n_critic}

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(_env_int("PLAYGROUND_MAX_STEPS", 20_000), _env_int("PLAYGROUND_MAX_BATCH", 256),
                   _env_int("PLAYGROUND_MAX_RESOLUTION", 64), _env_int("PLAYGROUND_MAX_JOBS", 1),
                   _env_int("PLAYGROUND_MAX_N_CRITIC", 20),
                   _env_int("PLAYGROUND_MAX_PROCESSES", _gpu_count()))


@dataclass
class RunState:
    id: str
    spec: TrainSpec
    owner: str = ""                     # the session that started it ("" = the server itself)
    status: str = "starting"            # starting | running | stopping | stopped | finished | error
    step: int = 0
    total: int = 0
    history: list = field(default_factory=list)   # [{"step": s, "name": k, "value": v}, ...]
    grid: np.ndarray | None = None
    grid_step: int = 0
    img_per_s: float = 0.0
    eta_s: float = 0.0
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stop_requested: float | None = None
    processes: int = 1                  # local training processes (torchrun) for this run
    phase: dict = field(default_factory=dict)      # a scheduled run's latest phase: {"resolution": 8, "alpha": 0.4}
    timeline: list = field(default_factory=list)   # [{"step": s, "name": k, "value": v}] of the phase values
    health: dict = field(default_factory=dict)     # the latest health signals (engine/health.py), by name
    diagnoses: list = field(default_factory=list)  # [{"step", "topic", "message"}], oldest first

    def snapshot(self) -> dict:
        return {"id": self.id, "family": self.spec.family, "dataset": self.spec.dataset, "owner": self.owner,
                "status": self.status, "step": self.step, "total": self.total,
                "history": list(self.history), "grid": self.grid, "grid_step": self.grid_step,
                "img_per_s": self.img_per_s, "eta_s": self.eta_s, "error": self.error,
                "out": self.spec.out, "started": self.started, "finished": self.finished,
                "processes": self.processes, "phase": dict(self.phase), "timeline": list(self.timeline),
                "health": dict(self.health), "diagnoses": list(self.diagnoses)}


class JobManager:
    def __init__(self, runs_dir: str | Path, limits: Limits | None = None):
        self.runs_dir = Path(runs_dir)
        self.limits = limits or Limits.from_env()
        self._lock = threading.Lock()
        self._runs: dict[str, RunState] = {}
        self._stops: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}

    # ---- starting and stopping ----

    def _check_limits(self, spec: TrainSpec) -> None:
        lim = self.limits
        if not 1 <= spec.steps <= lim.max_steps:
            raise PlaygroundError(f"steps must be between 1 and {lim.max_steps} on this server")
        if not 1 <= spec.batch_size <= lim.max_batch:
            raise PlaygroundError(f"batch size must be between 1 and {lim.max_batch} on this server")
        # the family's settings against their declared bounds, and this server's caps on them
        make_config(get_family(spec.family), spec.overrides, limits=lim.setting_caps())

    def _free_slot(self) -> None:
        """Runs asked to stop more than FORCE_STOP_S ago give up their slot (their thread, stuck in
        one long operation, finishes on its own and changes nothing here any more)."""
        now = time.time()
        with self._lock:
            for r in self._runs.values():
                if r.status == "stopping" and r.stop_requested and now - r.stop_requested > FORCE_STOP_S:
                    r.status, r.finished = "stopped (forced)", now

    def active(self) -> list[RunState]:
        self._free_slot()
        with self._lock:
            return [r for r in self._runs.values() if r.status in ("starting", "running", "stopping")]

    def check_can_start(self, spec: TrainSpec) -> None:
        """Everything that can refuse a start, checked before any upload is unpacked for it."""
        self._check_limits(spec)
        busy = self.active()
        if len(busy) >= self.limits.max_concurrent:
            r = busy[0]
            raise PlaygroundError(f"a training run is already going on this server ({r.spec.family} on "
                                  f"{r.spec.dataset}, step {r.step}/{r.total}); wait for it"
                                  + (" or stop it" if r.owner == "" else ""))

    def _owned(self, run_id: str, owner: str | None, action: str) -> RunState:
        state = self.get(run_id)
        if owner is not None and state.owner != owner:
            raise PlaygroundError(f"run {run_id} belongs to another visitor: you can watch it, not {action} it")
        return state

    def start(self, spec: TrainSpec, resume_id: str | None = None, owner: str = "", processes: int = 1) -> str:
        """Start (or resume) a run in a worker thread; `processes` > 1 trains it with that many local
        processes under torchrun (one per GPU)."""
        self.check_can_start(spec)
        if not 1 <= processes <= self.limits.max_processes:
            raise PlaygroundError(f"processes must be between 1 and {self.limits.max_processes} on this server")
        spec = dataclasses.replace(spec, max_resolution=self.limits.max_resolution)
        if resume_id:
            old = self._owned(resume_id, owner, "resume")
            if old.status in ("starting", "running", "stopping"):
                raise PlaygroundError(f"run {resume_id} is still running")
            run_id = resume_id
            spec = dataclasses.replace(spec, out=old.spec.out, resume=old.spec.out,
                                       logdir=old.spec.logdir, seed=old.spec.seed)
        else:
            run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
            spec = dataclasses.replace(spec, out=str(self.runs_dir / run_id),
                                       logdir=str(self.runs_dir / TB_DIR / run_id))
        state = RunState(run_id, spec, owner=owner, total=spec.steps, processes=processes)
        if resume_id:
            state.history = self.get(resume_id).history
            state.timeline = self.get(resume_id).timeline
        stop = threading.Event()
        thread = threading.Thread(target=self._work, args=(state, stop, processes), name=f"train-{run_id}",
                                  daemon=True)
        with self._lock:
            self._runs[run_id], self._stops[run_id], self._threads[run_id] = state, stop, thread
        thread.start()
        return run_id

    def stop(self, run_id: str, owner: str | None = None) -> None:
        """Ask the run to stop (owner None = the server itself, e.g. tests and the CLI)."""
        self._owned(run_id, owner, "stop")
        with self._lock:
            self._stops[run_id].set()
            state = self._runs[run_id]
            if state.status in ("starting", "running"):
                state.status, state.stop_requested = "stopping", time.time()
        self._free_slot()

    def check_owner(self, run_id: str, owner: str | None, action: str) -> RunState:
        return self._owned(run_id, owner, action)

    def wait(self, run_id: str, timeout: float | None = None) -> dict:
        self._threads[run_id].join(timeout)
        return self.status(run_id)

    # ---- reading ----

    def get(self, run_id: str) -> RunState:
        with self._lock:
            if run_id not in self._runs:
                raise PlaygroundError(f"no run {run_id!r} on this server")
            return self._runs[run_id]

    def status(self, run_id: str | None = None, owner: str | None = None) -> dict | None:
        """run_id's snapshot, or the latest run's (of `owner`, when given); None when there is none."""
        self._free_slot()
        with self._lock:
            if run_id is None:
                mine = [k for k, r in self._runs.items() if owner is None or r.owner == owner]
                if not mine:
                    return None
                run_id = max(mine, key=lambda k: self._runs[k].started)
            if run_id not in self._runs:
                raise PlaygroundError(f"no run {run_id!r} on this server")
            return self._runs[run_id].snapshot()

    def runs(self) -> list[dict]:
        with self._lock:
            return [r.snapshot() for r in sorted(self._runs.values(), key=lambda r: r.started)]

    # ---- the worker ----

    def _work(self, state: RunState, stop: threading.Event, processes: int = 1) -> None:
        events = train(state.spec, stop, training_resources()) if processes == 1 else train_processes(state.spec, processes, stop)
        try:
            for ev in events:
                with self._lock:
                    if state.status == "stopped (forced)":
                        continue              # given up on: its late events change nothing
                    if state.status == "starting":
                        state.status = "running"
                    state.step = ev.step
                    if ev.kind == "step":
                        state.img_per_s = ev.scalars.get("img_per_s", 0.0)
                        state.eta_s = ev.scalars.get("eta_s", 0.0)
                        phase = {k[len(PHASE):]: v for k, v in ev.scalars.items() if k.startswith(PHASE)}
                        state.phase = phase
                        state.timeline.extend({"step": ev.step, "name": k, "value": v} for k, v in phase.items())
                        state.health.update({k[len(HEALTH):]: v for k, v in ev.scalars.items() if k.startswith(HEALTH)})
                        state.history.extend({"step": ev.step, "name": k, "value": v} for k, v in ev.scalars.items()
                                             if k not in ("img_per_s", "eta_s") and not k.startswith((PHASE, HEALTH)))
                    elif ev.kind == "samples":
                        state.grid, state.grid_step = ev.image, ev.step
                        state.health.update({k[len(HEALTH):]: v for k, v in ev.scalars.items() if k.startswith(HEALTH)})
                    elif ev.kind == "diagnosis":
                        state.diagnoses.append({"step": ev.step, "topic": ev.topic, "message": ev.message})
                    elif ev.kind == "error":
                        state.status, state.error = "error", ev.message
                        if ev.topic:
                            state.diagnoses.append({"step": ev.step, "topic": ev.topic, "message": ev.message})
                    elif ev.kind == "done":
                        state.status = "stopped" if ev.message == "stopped" else "finished"
        except PlaygroundError as e:
            with self._lock:
                if state.status != "stopped (forced)":
                    state.status, state.error = "error", str(e)
        except Exception as e:  # noqa: BLE001 - a crashing run must not take the server down
            with self._lock:
                if state.status != "stopped (forced)":
                    state.status = "error"
                    state.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            with self._lock:
                state.finished = state.finished or time.time()

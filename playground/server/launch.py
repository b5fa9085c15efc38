"""A training run in N local processes, started by PyTorch's launcher, seen as one event stream.

    for ev in train_processes(spec, nproc=2, stop=stop): ...   # the same Events as trainer.train

The parent starts `python -m torch.distributed.run --standalone --nproc_per_node N -m
playground.server.launch RUN_DIR` with the spec written to RUN_DIR/spec.json. Rank 0 appends its
events to RUN_DIR/events.jsonl (sample grids as .npy files beside it); the parent tails that file.
Stop: the parent creates RUN_DIR/stop, which every rank's watcher turns into the trainer's stop
flag (the ranks agree on it at the next log step); a launch still alive FORCE_KILL_S later is
killed with its process group. This is how the Train tab uses several GPUs on one machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import PlaygroundError
from ..engine.dist import exit_process, shutdown_current
from ..engine.trainer import Event, TrainSpec, train
from ..eval.resources import training_resources

FORCE_KILL_S = 10.0
EVENTS, STOP, SPEC = "events.jsonl", "stop", "spec.json"


def _event_line(ev: Event, folder: Path) -> str:
    d = {"kind": ev.kind, "step": ev.step, "total": ev.total, "scalars": ev.scalars, "path": ev.path,
         "message": ev.message, "images": ev.images, "topic": ev.topic}
    if ev.image is not None:
        name = f"grid-{ev.step}.npy"
        np.save(folder / name, ev.image)
        d["image"] = name
    return json.dumps(d)


def _read_event(line: str, folder: Path) -> Event:
    d = json.loads(line)
    image = np.load(folder / d.pop("image"), allow_pickle=False) if "image" in d else None
    return Event(image=image, **d)


def _watch_stop(folder: Path, stop: threading.Event) -> None:
    while not stop.is_set():
        if (folder / STOP).exists():
            stop.set()
        time.sleep(0.2)


def worker(folder: Path) -> int:
    """One rank of the launch: train, rank 0 writing the events."""
    spec = TrainSpec(**json.loads((folder / SPEC).read_text()))
    stop = threading.Event()
    threading.Thread(target=_watch_stop, args=(folder, stop), daemon=True).start()
    main = int(os.environ.get("RANK", "0")) == 0
    clean = False                    # a failed rank leaves the group without waiting for the others
    try:
        with open(folder / EVENTS, "a") if main else open(os.devnull, "w") as f:
            for ev in train(spec, stop, training_resources()):
                if main:
                    f.write(_event_line(ev, folder) + "\n")
                    f.flush()
        clean = True
    except PlaygroundError as e:
        if main:
            with open(folder / EVENTS, "a") as f:
                f.write(json.dumps({"kind": "error", "step": 0, "total": spec.steps, "message": str(e)}) + "\n")
        return 2
    finally:
        stop.set()
        shutdown_current(clean)
    return 0


def train_processes(spec: TrainSpec, nproc: int, stop: threading.Event | None = None) -> Iterator[Event]:
    """Run `spec` in `nproc` local processes (torchrun), yielding rank 0's events as they come."""
    if nproc < 2:
        raise PlaygroundError("train_processes is for 2 or more processes; use trainer.train for one")
    if spec.batch_size % nproc:
        raise PlaygroundError(f"the batch size {spec.batch_size} must divide evenly over {nproc} processes")
    folder = Path(tempfile.mkdtemp(prefix="playground-launch-"))
    (folder / SPEC).write_text(json.dumps(dataclasses.asdict(spec)))
    (folder / EVENTS).touch()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
           "-m", "playground.server.launch", str(folder)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)     # its own process group: a forced stop kills all ranks
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True).start()
    try:
        yield from _follow(proc, folder, spec, stop, errors)
    finally:
        if proc.poll() is None:   # the consumer went away (or failed): take the ranks down with it
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _follow(proc, folder: Path, spec: TrainSpec, stop, errors: list[str]) -> Iterator[Event]:
    asked = None
    done = False
    with open(folder / EVENTS) as f:
        while True:
            exited = proc.poll() is not None      # checked before reading: all it wrote gets read
            line = f.readline()
            if line.endswith("\n"):
                ev = _read_event(line, folder)
                done = done or ev.kind in ("done", "error")
                yield ev
                continue
            if exited:
                break
            if stop is not None and stop.is_set() and asked is None:
                (folder / STOP).touch()
                asked = time.time()
            if asked is not None and time.time() - asked > FORCE_KILL_S:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.1)
    if not done and asked is not None:   # killed after a stop that the ranks did not reach in time
        yield Event("done", 0, spec.steps, message="stopped")
    elif not done:
        tail = "".join(errors[-5:]).strip().splitlines()
        yield Event("error", 0, spec.steps,
                    message="the training processes ended without finishing"
                            + (f" (exit code {proc.returncode}): {tail[-1][:300]}" if tail else
                               f" (exit code {proc.returncode})"))


if __name__ == "__main__":
    exit_process(worker(Path(sys.argv[1])))

"""Run chains of commands as child processes, several chains at a time, in dependency order.

`retrain --jobs N` uses it to replay shipped models side by side on one GPU: small nets leave most of
a GPU idle, so N of them at once finish in far less time than one after another. A chain is one
model's commands (its training segments, then its eval), run in order; a chain waits for the chains
it names in `after`; the longest ready chain (by `weight`, e.g. its training steps) starts first, so
the long ones do not start last. A chain whose command fails (or that waits on one that failed) does
not stop the others. Setting `stop` (the CLI sets it on SIGTERM or Ctrl-C) forwards SIGTERM to the
running commands (a training run then saves the step in hand), waits for them and starts no more.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

GRACE_S = 120.0          # how long a stopped command may take to save before it is killed


@dataclass
class Chain:
    name: str
    commands: list[list[str]]          # full argument lists, run in order
    after: tuple[str, ...] = ()        # chains that must have finished ("ok") first
    weight: float = 0.0                # larger starts first among the ready ones


@dataclass
class _Running:
    log: object
    started: float
    left: list[list[str]] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    terminated: bool = False

    def start_next(self) -> None:
        argv = self.left.pop(0)
        self.log.write(f"$ {shlex.join(argv)}\n")
        self.log.flush()
        # its own session: a terminal's Ctrl-C reaches only the queue, which forwards one SIGTERM
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)


def run_chains(chains: list[Chain], jobs: int, log_dir: str | Path, stop: threading.Event | None = None,
               say=print, poll_s: float = 0.2) -> dict[str, str]:
    """Run every chain, at most `jobs` at once, each chain's output in log_dir/NAME.log.
    Returns name -> "ok", "failed (exit N): COMMAND", "skipped: ..." (waits on a failed chain or
    in a cycle) or "stopped"."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    names = {c.name for c in chains}
    if len(names) != len(chains):
        raise ValueError("chain names must be unique")
    if any(not c.commands for c in chains):
        raise ValueError("every chain needs a command")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    pending = sorted(chains, key=lambda c: -c.weight)
    running: dict[str, _Running] = {}
    status: dict[str, str] = {}

    def finish(name: str, result: str) -> None:
        run = running.pop(name)
        run.log.close()
        status[name] = result
        say(f"{name}: {result} after {time.monotonic() - run.started:.0f} s")

    try:
        while pending or running:
            for name, run in list(running.items()):
                rc = run.proc.poll()
                if rc is None:
                    continue
                if run.terminated or (stop.is_set() and run.left):
                    finish(name, "stopped")
                elif rc != 0:
                    finish(name, f"failed (exit {rc}): {shlex.join(run.proc.args)}")
                elif not run.left:
                    finish(name, "ok")
                else:
                    run.start_next()
            if stop.is_set():
                for c in pending:
                    status[c.name] = "stopped"
                pending = []
                _terminate(running.values())
            for c in list(pending):                       # waits on a chain that did not succeed
                bad = [d for d in c.after if d in names and d in status and status[d] != "ok"]
                if bad:
                    pending.remove(c)
                    status[c.name] = f"skipped: {bad[0]} {status[bad[0]].split(':')[0]}"
                    say(f"{c.name}: {status[c.name]}")
            for c in list(pending):
                if len(running) >= jobs:
                    break
                if all(status.get(d) == "ok" for d in c.after if d in names):
                    pending.remove(c)
                    log = log_dir / f"{c.name}.log"
                    running[c.name] = run = _Running(open(log, "w"), time.monotonic(), list(c.commands))
                    say(f"{c.name}: started ({len(c.commands)} command(s), log {log})")
                    run.start_next()
            if pending and not running:                    # none ready, none to wait for: a cycle
                waiting = {c.name for c in pending}
                for c in pending:
                    status[c.name] = f"skipped: waits on {', '.join(d for d in c.after if d in waiting)} in a cycle"
                    say(f"{c.name}: {status[c.name]}")
                pending = []
            time.sleep(poll_s)
    finally:
        _terminate(running.values())
        for run in running.values():
            try:
                run.proc.wait(GRACE_S)
            except subprocess.TimeoutExpired:
                run.proc.kill()
                run.proc.wait()
            run.log.close()
    return status


def _terminate(runs) -> None:
    """SIGTERM once: a training run saves on the first and quits at once on a second."""
    for run in runs:
        if not run.terminated and run.proc.poll() is None:
            run.proc.terminate()
            run.terminated = True

"""What the tabs share: where this server keeps runs, its JobManager, its disk budget, and who
may use which run."""

from __future__ import annotations

import functools
import inspect
import os
import typing
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .. import api
from ..device import thread_pinner
from ..errors import PlaygroundError
from ..server.access import can_use
from ..server.jobs import JobManager
from ..server.storage import DiskBudget
from .common import owner_of, user_errors
from .zerogpu import gpu_lease


@dataclass
class AppContext:
    runs_dir: Path
    jobs: JobManager
    budget: DiskBudget
    pin_threads: typing.Callable[[], None] = lambda: None   # request threads compute as the app's thread does

    @classmethod
    def create(cls, runs_dir: str | Path | None = None) -> "AppContext":
        runs_dir = Path(runs_dir or os.environ.get("PLAYGROUND_RUNS_DIR", "runs/ui"))
        return cls(runs_dir, JobManager(runs_dir), DiskBudget.from_env(runs_dir), thread_pinner())

    def _is_run(self, name: str) -> bool:
        return name not in api.shipped_model_names()

    def models(self, kinds=None, owner: str | None = None) -> list[dict]:
        """Shipped models and the runs `owner` may use (its own, shared ones, ones the server's
        operator put there) whose family kind is one of `kinds` (None = all)."""
        return [m for m in api.list_models(self.runs_dir)
                if (kinds is None or m["kind"] in kinds)
                and (not self._is_run(m["name"]) or can_use(m["path"], owner))]

    def model_choices(self, kinds=None, owner: str | None = None) -> list[tuple[str, str]]:
        """(label, value) pairs: shipped models by name, this server's runs by description."""
        return [(m["description"] if self._is_run(m["name"]) else f"{m['name']} - {m['description']}", m["name"])
                for m in self.models(kinds, owner)]

    def check_access(self, names, owner: str | None) -> None:
        """A visitor may only use shipped models, public or shared runs, and its own."""
        for name in [names] if isinstance(names, str) else list(names or []):
            if not self._is_run(name):
                continue
            path = Path(name)
            inside = path.resolve().parent == self.runs_dir.resolve()
            if not inside or not (path / "config.json").is_file() or not can_use(path, owner):
                raise PlaygroundError(f"no model {path.name!r} is available to you on this server")
            self.budget.touch(path)

    def guard(self, fn, *model_args: int):
        """`fn` with an access check on its model-name arguments (positions `model_args`, default
        the first): Gradio passes the visitor's request in a last parameter added here."""
        positions = model_args or (0,)

        @functools.wraps(fn)
        def guarded(*args):
            *values, request = args
            for i in positions:
                self.check_access(values[i], owner_of(request))
            self.pin_threads()
            return fn(*values)

        params = list(inspect.signature(fn).parameters.values())
        params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                        annotation=gr.Request))
        guarded.__signature__ = inspect.Signature(params)
        # resolved here, in fn's own module: Gradio finds gr.Request / gr.SelectData by type hint
        guarded.__annotations__ = {**typing.get_type_hints(fn), "request": gr.Request}
        return user_errors(gpu_lease(guarded))

    def protected_paths(self) -> list[Path]:
        """What LRU cleanup must not touch: the folders of runs that are going."""
        out = []
        for r in self.jobs.active():
            out += [Path(p) for p in (r.spec.out, r.spec.logdir) if p]
            if r.spec.dataset.startswith("folder:"):
                out.append(Path(r.spec.dataset[len("folder:"):]))
        return out

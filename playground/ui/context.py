"""What the tabs share: where this server keeps runs, and the one JobManager."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import api


@dataclass
class AppContext:
    runs_dir: Path
    jobs: api.JobManager

    @classmethod
    def create(cls, runs_dir: str | Path | None = None) -> "AppContext":
        runs_dir = Path(runs_dir or os.environ.get("PLAYGROUND_RUNS_DIR", "runs/ui"))
        return cls(runs_dir, api.JobManager(runs_dir))

    def models(self, predicate=lambda m: True) -> list[dict]:
        return [m for m in api.list_models(self.runs_dir) if predicate(m)]

    def model_choices(self, predicate=lambda m: True) -> list[tuple[str, str]]:
        """(label, value) pairs: shipped models by name, this server's runs by description."""
        return [(m["description"] if m["name"] not in api.registry.shipped_models()
                 else f"{m['name']} - {m['description']}", m["name"]) for m in self.models(predicate)]

"""Retrain shipped models with their recorded commands, e.g. on a lent GPU:

    python -m playground retrain [NAME ...] --out-root DIR [--device cuda] [--jobs N] [--dry-run]

A model's config.json holds the command that made it and, for a run that was resumed, the earlier
commands (`history`). They are replayed in order with every checkpoint path (`--out`, `--resume`,
`init_from=`, `base=`) moved under DIR, `--threads` dropped and `--device` set; then the metrics the
shipped card records are measured again by `eval --write-card` on the new folder. Compare the card
in DIR/NAME with the shipped one and copy the folder over checkpoints/NAME when it is better:
nothing here touches checkpoints/. With --jobs N, N models train at once (`command_queue`), each
with its share of the CPU threads, a model that starts from another (`init_from=`, `base=`) after it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .. import checkpoint
from ..errors import PlaygroundError
from ..capabilities.metrics import metric_of
from ..contract import Family
from ..registry import get_family, shipped_models

PREFIX = ["python", "-m", "playground", "train"]
DROPPED = {"--threads", "--device"}          # flags with one value that the replay sets itself


def _shipped_folder(value: str, out_root: Path) -> str:
    """init_from=checkpoints/NAME -> out_root/NAME (retrained first: the registry lists it earlier)."""
    name = Path(value).name
    if name not in {p.name for p, _ in shipped_models().values()}:
        raise PlaygroundError(f"recorded {value!r} (init_from= or base=) is not a shipped model's folder")
    return str(out_root / name)


def replay_argv(command: str, model_dir: Path, out_root: Path, device: str, threads: int = 0) -> list[str]:
    """A recorded `python -m playground train ...` command as CLI arguments for the replay: every
    segment of a model's history writes (and resumes) `model_dir`, whatever folder it first used."""
    tokens = shlex.split(command)
    if tokens[:4] != PREFIX:
        raise PlaygroundError(f"not a recorded training command: {command[:80]!r}")
    argv, rest = ["train"], iter(tokens[4:])
    for tok in rest:
        if tok in DROPPED:
            next(rest, None)
        elif tok in ("--out", "--resume"):
            next(rest, None)
            argv += [tok, str(model_dir)]
        elif tok == "--logdir":
            next(rest, None)
            argv += [tok, str(model_dir / "tb")]
        elif tok.startswith(("init_from=", "base=")):       # another shipped model this one starts from
            key, _, value = tok.partition("=")
            argv.append(f"{key}=" + _shipped_folder(value, out_root))
        else:
            argv.append(tok)
    return argv + ["--device", device] + (["--threads", str(threads)] if threads else [])


def _depends_on_run_length(family: str) -> bool:
    """Whether training depends on --steps (CycleGAN's lr decay), so that a run stopped short of it
    is not the same as a run given fewer steps: the protocol's default fit_to_run keeps the config."""
    return get_family(family).fit_to_run is not Family.fit_to_run


def _segment(entry: dict, family: str) -> str:
    """An earlier segment of a resumed run as it ran: stopped at `to_step` (SIGTERM, a lent machine's
    time limit), so `--steps` becomes that step; refused where training depends on --steps."""
    tokens = shlex.split(entry["command"])
    to_step = entry.get("to_step")
    if to_step is None or "--steps" not in tokens or tokens[tokens.index("--steps") + 1] == str(to_step):
        return entry["command"]
    if _depends_on_run_length(family):
        raise PlaygroundError(f"a {family} segment stopped at step {to_step} of its --steps cannot be replayed: "
                              "its training depends on --steps")
    tokens[tokens.index("--steps") + 1] = str(to_step)
    return shlex.join(tokens)


def plan(names: list[str] | None, out_root: str | Path, device: str, threads: int = 0) -> list[dict]:
    """For each model, in the registry's order (SRResNet before the SRGAN that starts from it):
    its training commands as CLI argument lists, the eval command that re-measures its card, the
    shipped models it starts from (`after`) and its training steps (`steps`, the last command's)."""
    out_root, shipped = Path(out_root), shipped_models()
    unknown = sorted(set(names or []) - set(shipped))
    if unknown:
        raise PlaygroundError(f"not shipped models: {', '.join(unknown)}; choose from {', '.join(shipped)}")
    models = []
    for name, (path, _) in shipped.items():
        if names and name not in names:
            continue
        meta = checkpoint.read_config(path)
        commands = [_segment(h, meta["family"]) for h in meta.get("history", [])] + [meta["command"]]
        train = [replay_argv(c, out_root / name, out_root, device, threads) for c in commands]
        metrics = ",".join(dict.fromkeys(metric_of(k) for k in meta.get("metrics", {})))
        starts_from = {Path(t.partition("=")[2]).name for argv in train for t in argv
                       if t.startswith(("init_from=", "base="))}
        last = train[-1]
        models.append({"name": name, "train": train, "after": sorted(starts_from),
                       "steps": int(last[last.index("--steps") + 1]) if "--steps" in last else 0,
                       "eval": ["eval", str(out_root / name), "--metrics", metrics, "--write-card"] if metrics else None})
    return models


def adopt(kept: str | Path, dest: str | Path, provenance: str) -> Path:
    """Make a checkpoint that `train --keep-checkpoints` left in OUT/steps/STEP a model folder whose
    recorded command replays it: `--steps` becomes the kept step, `--keep-checkpoints` goes, and
    `provenance` (where and why: the card prints it) is recorded. Refused for a family whose
    training depends on the run's length (CycleGAN's lr decay): there `--steps` is not a cut."""
    meta = checkpoint.read_config(kept)
    if _depends_on_run_length(meta["family"]):
        raise PlaygroundError(f"{meta['family']} training depends on --steps; a kept step is not that run cut short")
    tokens = shlex.split(meta.get("command", ""))
    if tokens[:4] != PREFIX or "--steps" not in tokens:
        raise PlaygroundError(f"{kept}: no recorded training command with --steps")
    if not provenance.strip():
        raise PlaygroundError("say where the checkpoint comes from (provenance)")
    tokens[tokens.index("--steps") + 1] = str(meta["step"])
    tokens = [t for t in tokens if t != "--keep-checkpoints"]
    dest = checkpoint.copy_inference(kept, dest)
    checkpoint.update_meta(dest, command=shlex.join(tokens), provenance=provenance.strip(), metrics={})
    return dest

"""`python -m playground retrain`: the recorded commands, replayed into a new folder."""

import pytest

from playground import checkpoint
from playground.cli import _parser, main
from playground.errors import PlaygroundError
from playground.registry import shipped_models
from playground.tools.retrain import plan


def test_every_shipped_model_replays_its_recorded_commands_into_the_new_folder(tmp_path):
    steps = plan(None, tmp_path, "cuda")
    assert [s["name"] for s in steps] == list(shipped_models())
    for step in steps:
        for argv in step["train"]:
            args = _parser().parse_args(argv)                  # every replayed command is valid CLI
            assert args.device == "cuda" and args.threads == 0
            assert args.out == str(tmp_path / step["name"])
            assert args.resume in (None, str(tmp_path / step["name"]))
            assert all("checkpoints/" not in a for a in argv)  # the shipped folders are never written
        assert step["eval"][:2] == ["eval", str(tmp_path / step["name"])] and "--write-card" in step["eval"]
    names = [s["name"] for s in steps]
    srgan = steps[names.index("srgan-x4")]["train"][0]
    assert f"init_from={tmp_path / 'srresnet-x4'}" in srgan and names.index("srresnet-x4") < names.index("srgan-x4")
    resumed = steps[names.index("cgan-fashion")]["train"]
    assert len(resumed) == 2 and "--resume" not in resumed[0] and "--resume" in resumed[1]   # history first
    for step in steps:              # a segment stopped early (SIGTERM) replays to where it stopped
        history = checkpoint.read_config(shipped_models()[step["name"]][0]).get("history", [])
        for argv, h in zip(step["train"], history):
            assert argv[argv.index("--steps") + 1] == str(h["to_step"])
    progan = steps[names.index("progan-fashion")]["train"]
    assert progan[0][progan[0].index("--steps") + 1] == "11901"                # recorded: --steps 200000
    after = {s["name"]: s["after"] for s in steps if s["after"]}
    assert after == {"srgan-x4": ["srresnet-x4"], "tedigan-fashion": ["stylegan-fashion"]}
    for step in steps:                                   # `--steps` of the last command: the shipped step
        assert step["steps"] == checkpoint.read_config(shipped_models()[step["name"]][0])["step"]
    assert all(argv[-2:] == ["--threads", "4"] for s in plan(None, tmp_path, "cuda", threads=4) for argv in s["train"])


def test_retrain_jobs_runs_models_side_by_side_and_reports_each(idx_dir, tmp_path, monkeypatch, capsys):
    """`retrain --jobs 2` end to end, on two tiny stand-in models (the shipped ones train for minutes
    on a GPU): each trains in its own process, the one that starts from the other waits for it, and a
    model whose command fails is reported without stopping the rest (exit 1)."""
    import playground.tools.retrain

    def tiny(name, **extra):
        return {"name": name, "steps": 2, "eval": None, "after": [], **extra,
                "train": [["train", "cgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "2",
                           "--batch-size", "8", "--no-tensorboard", "--out", str(tmp_path / "out" / name),
                           "--device", "cpu", "--threads", "1"]]}
    models = [tiny("a"), tiny("b", after=["a"]), {**tiny("c"), "train": [["train", "no-such-family"]]}]
    monkeypatch.setattr(playground.tools.retrain, "plan", lambda names, root, device, threads: models)
    assert main(["retrain", "--out-root", str(tmp_path / "out"), "--jobs", "2", "--device", "cpu"]) == 1
    out, err = capsys.readouterr()
    assert "retrained 2 of 3 models" in out and "c: failed (exit 2)" in err
    for name in "ab":
        assert checkpoint.read_config(tmp_path / "out" / name)["step"] == 2
    assert "error:" in (tmp_path / "out" / "logs" / "c.log").read_text()
    assert main(["retrain", "--out-root", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


def test_dry_run_and_bad_names(tmp_path, capsys):
    assert main(["retrain", "cgan-mnist", "--out-root", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("python -m playground train cgan --dataset mnist5k") and out[1].startswith(
        "python -m playground eval")
    assert not list(tmp_path.iterdir())                          # nothing trained
    with pytest.raises(PlaygroundError, match="not shipped models: nope"):
        plan(["nope"], tmp_path, "cuda")


def test_adopt_makes_a_kept_step_a_model_whose_command_replays_it(idx_dir, tmp_path, capsys):
    """`adopt`: a checkpoint kept at step 4 of a run given --steps 6 becomes a folder whose recorded
    command says --steps 4; running that command gives the kept weights exactly (CPU, deterministic)."""
    import shlex

    import torch

    from playground import checkpoint
    from playground.tools.cards import write_card

    run = tmp_path / "run"
    assert main(["train", "cgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "6", "--batch-size", "8",
                 "--ckpt-every", "2", "--deterministic", "--no-tensorboard", "--keep-checkpoints", "--out", str(run)]) == 0
    assert main(["adopt", str(run / "steps" / "0000004"), str(tmp_path / "m"), "--provenance", "a test run"]) == 0
    meta = checkpoint.read_config(tmp_path / "m")
    argv = shlex.split(meta["command"])
    assert argv[argv.index("--steps") + 1] == "4" and "--keep-checkpoints" not in argv
    assert meta["provenance"] == "a test run" and meta["metrics"] == {} and meta["step"] == 4
    argv[argv.index("--out") + 1] = str(tmp_path / "replay")
    assert main(argv[3:]) == 0
    kept, replay = checkpoint.load_model_state(tmp_path / "m"), checkpoint.load_model_state(tmp_path / "replay")
    assert all(torch.equal(kept[k], replay[k]) for k in kept)
    assert "- provenance: a test run" in write_card(str(tmp_path / "m")).read_text()
    assert main(["adopt", str(run / "steps" / "0000004"), str(tmp_path / "m2"), "--provenance", " "]) == 2
    assert "error: say where the checkpoint comes from" in capsys.readouterr().err
    assert not (tmp_path / "m2").exists()


def test_adopt_refuses_a_family_whose_training_depends_on_the_run_length(tmp_path, capsys):
    from playground import checkpoint

    checkpoint.save(tmp_path / "k", family="cyclegan", config={}, model_state={}, step=2,
                    meta={"command": "python -m playground train cyclegan --steps 9 --out x"})
    assert main(["adopt", str(tmp_path / "k"), str(tmp_path / "m"), "--provenance", "p"]) == 2
    assert "cyclegan training depends on --steps" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_a_stopped_segment_of_a_run_length_dependent_family_is_refused():
    from playground.tools.retrain import _segment

    entry = {"command": "python -m playground train cyclegan --steps 9 --out x", "to_step": 4}
    with pytest.raises(PlaygroundError, match="cyclegan segment stopped at step 4"):
        _segment(entry, "cyclegan")
    assert _segment({**entry, "to_step": 9}, "cyclegan") == entry["command"]
    assert "--steps 4" in _segment(entry, "biggan")

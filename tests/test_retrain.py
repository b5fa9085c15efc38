"""`python -m playground retrain`: the recorded commands, replayed into a new folder."""

import pytest

from playground.cli import _parser, main
from playground.errors import PlaygroundError
from playground.registry import shipped_models
from playground.retrain import plan


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


def test_dry_run_and_bad_names(tmp_path, capsys):
    assert main(["retrain", "cgan-mnist", "--out-root", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("python -m playground train cgan --dataset mnist5k") and out[1].startswith(
        "python -m playground eval")
    assert not list(tmp_path.iterdir())                          # nothing trained
    with pytest.raises(PlaygroundError, match="not shipped models: nope"):
        plan(["nope"], tmp_path, "cuda")

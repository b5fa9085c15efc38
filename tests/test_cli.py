import subprocess
import sys

import numpy as np
import torch
import pytest
from PIL import Image

from playground.cli import main


@pytest.fixture
def trained(idx_dir, tmp_path):
    out = tmp_path / "run"
    rc = main(["train", "cgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "10",
               "--batch-size", "16", "--out", str(out), "--no-tensorboard", "--log-every", "5"])
    assert rc == 0
    return out


def test_list_and_summary(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "wgan-gp" in out and "mnist5k" in out
    assert main(["summary", "dcgan"]) == 0
    assert "ConvTranspose2d" in capsys.readouterr().out


def test_train_records_command(trained):
    import json

    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["command"].startswith("python -m playground train cgan --dataset mnist")
    assert cfg["seed"] == 0 and cfg["step"] == 10


def test_sample_png_and_npz(trained, tmp_path):
    assert main(["sample", str(trained), "--n", "12", "--seed", "1", "--label", "4",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").format == "PNG"
    assert main(["sample", str(trained), "--n", "12", "--seed", "1", "--out", str(tmp_path / "s.npz")]) == 0
    data = np.load(tmp_path / "s.npz")
    assert data["images"].shape == (12, 28, 28, 1) and data["images"].dtype == np.uint8
    assert data["labels"].dtype == np.int64 and data["labels"].tolist() == [i % 10 for i in range(12)]


@pytest.mark.parametrize("args,message", [
    (["sample", "no-such-model", "--out", "x.png"], "unknown model"),
    (["sample", "{run}", "--label", "10", "--out", "{tmp}/x.png"], "invalid class 10"),
    (["sample", "{run}", "--n", "0", "--out", "{tmp}/x.png"], "n must be between"),
    (["sample", "{run}", "--n", "5000", "--out", "{tmp}/x.png"], "n must be between"),
    (["sample", "{run}", "--seed", "-1", "--out", "{tmp}/x.png"], "seed must be"),
    (["sample", "{run}", "--out", "{tmp}/x.jpg"], ".png or .npz"),
    (["sample", "{run}", "--out", "{tmp}/missing/x.png"], "does not exist"),
    (["train", "nope", "--out", "{tmp}/o"], "unknown family"),
    (["train", "cgan", "--dataset", "mnist", "--data-dir", "{tmp}/none", "--out", "{tmp}/o"], "not found"),
    (["summary", "nope"], "unknown family"),
    (["train", "cgan", "--dataset", "mnist5k", "--set", "loss=foo", "--out", "{tmp}/o"], "cgan has no loss 'foo'"),
    (["train", "cgan", "--dataset", "mnist5k", "--set", "lr=abc", "--out", "{tmp}/o"], "not a valid float"),
    (["train", "dcgan", "--dataset", "mnist5k", "--set", "width=-3", "--out", "{tmp}/o"], "must not be negative"),
    (["train", "dcgan", "--dataset", "mnist5k", "--steps", "2", "--set", "width=0", "--out", "{tmp}/o"],
     "width must be at least 1, got 0"),
    (["train", "progan", "--dataset", "mnist5k", "--set", "z_dim=0", "--out", "{tmp}/o"], "z_dim (noise size) must be at least 1"),
])
def test_bad_input_exit_code_2(trained, tmp_path, capsys, args, message):
    args = [a.format(run=trained, tmp=tmp_path) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob(".*tmp*"))


def test_corrupt_and_mismatched_checkpoints(trained, tmp_path, capsys):
    import json
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(trained, bad)
    (bad / "model.safetensors").write_bytes(b"garbage" * 10)
    assert main(["sample", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "corrupt checkpoint file" in capsys.readouterr().err
    mism = tmp_path / "mism"
    shutil.copytree(trained, mism)
    cfg = json.loads((mism / "config.json").read_text())
    cfg["config"]["z_dim"] = 64
    (mism / "config.json").write_text(json.dumps(cfg))
    assert main(["sample", str(mism), "--out", str(tmp_path / "x.png")]) == 2
    assert "does not match its config" in capsys.readouterr().err
    (mism / "config.json").write_text("{not json")
    assert main(["sample", str(mism), "--out", str(tmp_path / "x.png")]) == 2
    assert "corrupt checkpoint" in capsys.readouterr().err


def test_entry_points_in_subprocess():
    out = subprocess.run([sys.executable, "-m", "playground", "list"], capture_output=True, text=True)
    assert out.returncode == 0 and "families:" in out.stdout
    out = subprocess.run([sys.executable, "app.py", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert all(flag in out.stdout for flag in ("--host", "--port", "--share"))


def test_loadtest_serves_concurrent_clients_without_errors():
    """The load script itself (the figures live in docs/performance.md, measured with its defaults)."""
    from playground.tools.loadtest import percentile, run_loadtest

    res = run_loadtest(clients=2, calls=3, timeout=120, warmup=1)
    assert res["completed"] == 6 and res["errors"] == 0 and not res["timed_out"]
    assert res["route"].startswith("direct POST")            # /generate is served without the queue
    assert 0 < res["p50_ms"] <= res["p95_ms"] <= res["max_ms"]
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10 and percentile([5], 50) == 5


def test_keep_checkpoints_leaves_every_step_loadable(idx_dir, tmp_path):
    """--keep-checkpoints: each checkpoint's weights + config stay in OUT/steps/STEP, each the
    weights of that step (not the last), each samples like a model folder."""
    import json

    from playground import checkpoint

    out = tmp_path / "run"
    assert main(["train", "cgan", "--dataset", "mnist", "--data-dir", str(idx_dir), "--steps", "6",
                 "--batch-size", "8", "--ckpt-every", "2", "--out", str(out), "--no-tensorboard",
                 "--keep-checkpoints"]) == 0
    kept = sorted(p.name for p in (out / "steps").iterdir())
    assert kept == ["0000002", "0000004", "0000006"]
    states = {}
    for name in kept:
        d = out / "steps" / name
        assert json.loads((d / "config.json").read_text())["step"] == int(name)
        assert sorted(p.name for p in d.iterdir()) == ["config.json", "model.safetensors"]
        states[name] = checkpoint.load_model_state(d)
    last = checkpoint.load_model_state(out)
    assert all(torch.equal(states["0000006"][k], last[k]) for k in last)
    assert any(not torch.equal(states["0000002"][k], last[k]) for k in last)
    assert main(["sample", str(out / "steps" / "0000004"), "--n", "4", "--out", str(tmp_path / "k.png")]) == 0
    assert "keep_checkpoints" not in json.loads((out / "config.json").read_text())["train"]


def test_sigterm_stops_training_with_a_checkpoint_of_the_last_step(idx_dir, tmp_path):
    """`timeout` (or a scheduler) sends SIGTERM: the run ends after the step in hand and saves it,
    so the steps since the last periodic checkpoint are not lost."""
    import json
    import os
    import signal

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "playground", "train", "gan", "--dataset", "mnist", "--data-dir", str(idx_dir),
           "--steps", "1000000", "--batch-size", "8", "--log-every", "1", "--ckpt-every", "1000000",
           "--no-tensorboard", "--out", str(out)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in p.stdout:                        # a few steps in, well before any periodic checkpoint
        if line.startswith("step 5/"):
            break
    p.send_signal(signal.SIGTERM)
    rest, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "SIGTERM: stopping after this step" in err
    last = [ln for ln in rest.splitlines() if ln.startswith("stopped at step")]
    assert last, rest[-500:]
    step = int(last[0].split()[3].rstrip(";"))
    assert step >= 5 and json.loads((out / "config.json").read_text())["step"] == step
    assert (out / "trainer_state.json").is_file()

import dataclasses
import time

import numpy as np
import torch

import pytest

from playground.server.runs_io import export_zip, extract_image_zip, import_zip
from playground import api, checkpoint
from playground.server.jobs import JobManager, Limits
from playground.engine.trainer import TrainSpec
from playground.errors import PlaygroundError


def spec(idx_dir, steps=400, **kw):
    base = dict(family="cgan", dataset="mnist", data_dir=str(idx_dir), steps=steps, batch_size=16,
                log_every=5, sample_every=10, ckpt_every=10**6)
    return TrainSpec(**{**base, **kw})


def wait_for(cond, timeout=60):
    t = time.time()
    while time.time() - t < timeout:
        if cond():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_run_streams_updates_then_stops_with_checkpoint(idx_dir, tmp_path):
    jobs = JobManager(tmp_path / "runs")
    run_id = jobs.start(spec(idx_dir, steps=100_000 // 100))
    seen = set()
    wait_for(lambda: seen.add(jobs.status(run_id)["step"]) or len([s for s in seen if s]) >= 2)
    wait_for(lambda: jobs.status(run_id)["grid"] is not None)
    snap = jobs.status(run_id)
    assert snap["status"] == "running" and snap["history"] and snap["grid"] is not None
    jobs.stop(run_id)
    snap = jobs.wait(run_id, 30)
    assert snap["status"] == "stopped" and snap["step"] < snap["total"]
    assert checkpoint.read_config(snap["out"])["step"] == snap["step"]
    # the stopped run is a model on this server
    names = [m["name"] for m in api.list_models(tmp_path / "runs")]
    assert snap["out"] in names


def test_second_concurrent_run_is_refused(idx_dir, tmp_path):
    jobs = JobManager(tmp_path / "runs")
    first = jobs.start(spec(idx_dir))
    with pytest.raises(PlaygroundError, match="already going on this server"):
        jobs.start(spec(idx_dir))
    jobs.stop(first)
    jobs.wait(first, 30)


def test_limits_refuse_oversized_runs(idx_dir, tmp_path):
    jobs = JobManager(tmp_path / "runs", Limits(max_steps=50, max_batch=8))
    with pytest.raises(PlaygroundError, match="steps must be between 1 and 50"):
        jobs.start(spec(idx_dir, steps=51))
    with pytest.raises(PlaygroundError, match="batch size"):
        jobs.start(spec(idx_dir, steps=10))


def test_crashing_run_surfaces_its_error_and_keeps_serving(idx_dir, tmp_path, monkeypatch):
    from playground.families import cgan

    def boom(ctx):
        if ctx.step >= 7:
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(ctx)

    real = cgan.train_step
    monkeypatch.setattr(cgan, "FAMILY", dataclasses.replace(cgan.FAMILY, train_step=boom))
    jobs = JobManager(tmp_path / "runs")
    run_id = jobs.start(spec(idx_dir, steps=50))
    snap = jobs.wait(run_id, 30)
    assert snap["status"] == "error" and "out of memory" in snap["error"]
    monkeypatch.undo()
    ok = jobs.start(spec(idx_dir, steps=10))   # the manager takes the next run
    assert jobs.wait(ok, 30)["status"] == "finished"


def test_resume_continues_the_step_count(idx_dir, tmp_path):
    jobs = JobManager(tmp_path / "runs")
    run_id = jobs.start(spec(idx_dir, steps=20))
    assert jobs.wait(run_id, 30)["step"] == 20
    jobs.start(spec(idx_dir, steps=40), resume_id=run_id)
    snap = jobs.wait(run_id, 30)
    assert snap["status"] == "finished" and snap["step"] == 40
    steps = sorted({h["step"] for h in snap["history"]})
    assert steps[0] == 5 and steps[-1] == 40 and 25 in steps


def test_download_and_upload_roundtrip(idx_dir, tmp_path):
    import zipfile

    jobs = JobManager(tmp_path / "runs")
    run_id = jobs.start(spec(idx_dir, steps=10))
    out = jobs.wait(run_id, 30)["out"]
    z = export_zip(out)
    assert sorted(zipfile.ZipFile(z).namelist()) == ["config.json", "model.safetensors"]
    dest = import_zip(z, tmp_path / "other")
    a = api.sample(out, 4, 1)
    b = api.sample(str(dest), 4, 1)
    assert (a == b).all()


def test_upload_refuses_bad_zips(tmp_path, idx_dir):
    import json
    import zipfile

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("model.pkl", b"x")
    with pytest.raises(PlaygroundError, match="exactly"):
        import_zip(bad, tmp_path / "r")
    (tmp_path / "notzip.zip").write_bytes(b"hello")
    with pytest.raises(PlaygroundError, match="not a zip"):
        import_zip(tmp_path / "notzip.zip", tmp_path / "r")
    jobs = JobManager(tmp_path / "runs")
    out = jobs.wait(jobs.start(spec(idx_dir, steps=5)), 30)["out"]
    for change, message in (({"family": "vae"}, "unknown family"), ({"config": {"z_dim": 3}}, "does not match")):
        cfg = json.loads((out and open(f"{out}/config.json").read()))
        if "config" in change:
            cfg["config"].update(change["config"])
        else:
            cfg.update(change)
        zp = tmp_path / f"{message[:5]}.zip"
        with zipfile.ZipFile(zp, "w") as z:
            z.writestr("config.json", json.dumps(cfg))
            z.write(f"{out}/model.safetensors", "model.safetensors")
        with pytest.raises(PlaygroundError, match=message):
            import_zip(zp, tmp_path / "r")
    assert not [p for p in (tmp_path / "r").iterdir() if not p.name.startswith(".")]


def test_uploaded_image_zip_becomes_a_labelled_dataset(tmp_path):
    import io
    import zipfile

    from PIL import Image

    from playground.data import load_dataset

    zp = tmp_path / "imgs.zip"
    with zipfile.ZipFile(zp, "w") as z:
        for cls in ("cats", "dogs"):
            for i in range(3):
                buf = io.BytesIO()
                Image.fromarray(np.full((20, 20, 3), 40 * i, np.uint8)).save(buf, format="PNG")
                z.writestr(f"data/{cls}/{i}.png", buf.getvalue())
        z.writestr("data/readme.txt", "ignored")
        z.writestr("../evil.png", b"not even an image")  # path traversal is flattened, then refused as unreadable
    folder = extract_image_zip(zp, tmp_path / "uploads")
    assert folder.is_relative_to(tmp_path / "uploads")
    (folder / "evil.png").unlink()
    ds = load_dataset(f"folder:{folder}")
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 6
    (tmp_path / "bad.zip").write_bytes(b"nope")
    with pytest.raises(PlaygroundError, match="not a zip"):
        extract_image_zip(tmp_path / "bad.zip", tmp_path / "uploads")


def test_stop_ends_a_run_inside_one_long_step(idx_dir, tmp_path):
    """WGAN with n_critic = 1,000,000: one step would take hours. Stop must end it in seconds."""
    import time

    jobs = JobManager(tmp_path / "runs", Limits(max_n_critic=10**6))
    run_id = jobs.start(spec(idx_dir, family="wgan", steps=3, overrides={"n_critic": 10**6, "width": 8}),
                        owner="alice")
    time.sleep(1.0)
    assert jobs.status(run_id)["step"] == 0                # still inside the first step
    with pytest.raises(PlaygroundError, match="belongs to another visitor"):
        jobs.stop(run_id, owner="mallory")
    jobs.stop(run_id, owner="alice")
    snap = jobs.wait(run_id, 30)
    # it ended inside its first step (which would take hours to finish), not at a step boundary
    assert snap["status"] == "stopped" and snap["step"] == 0
    ok = jobs.start(spec(idx_dir, steps=2))                 # the slot is free again
    assert jobs.wait(ok, 30)["status"] == "finished"


def test_public_limits_bound_n_critic(idx_dir, tmp_path):
    jobs = JobManager(tmp_path / "runs")
    with pytest.raises(PlaygroundError, match="n_critic must be between 1 and 20"):
        jobs.start(spec(idx_dir, family="wgan", overrides={"n_critic": 10**6}))


def test_a_run_stuck_in_one_operation_is_force_stopped(idx_dir, tmp_path, monkeypatch):
    """A step that never reaches a batch (stuck in one huge operation) loses the slot after
    FORCE_STOP_S; its late events change nothing."""
    import threading

    from playground.server import jobs as jobs_module
    from playground.families import cgan

    release = threading.Event()

    def stuck(ctx):
        release.wait(30)
        return {"D/loss": torch.tensor(0.0)}

    monkeypatch.setattr(cgan, "FAMILY", dataclasses.replace(cgan.FAMILY, train_step=stuck))
    monkeypatch.setattr(jobs_module, "FORCE_STOP_S", 0.5)
    jobs = JobManager(tmp_path / "runs")
    run_id = jobs.start(spec(idx_dir, steps=3))
    import time

    time.sleep(0.5)
    jobs.stop(run_id)
    time.sleep(0.7)
    assert jobs.status(run_id)["status"] == "stopped (forced)" and not jobs.active()
    release.set()
    jobs.wait(run_id, 10)
    assert jobs.status(run_id)["status"] == "stopped (forced)"

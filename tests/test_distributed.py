"""Scale-out: one optimiser-step helper, torchrun DDP on gloo (CPU), mixed precision flags.

The DDP tests launch real processes with PyTorch's own launcher (`python -m torch.distributed.run`,
i.e. torchrun) and compare weights with a single-process run of the same global batch.
"""

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from playground.engine.context import BatchSampler, StepContext
from playground.engine.dist import Dist
from playground.api import TrainSpec, train
from playground.engine.update import Precision, Updater, make_precision
from playground.errors import PlaygroundError
from playground.seed import BatchRNG

# StyleGAN is the BatchNorm-free family: minibatch-std groups stay inside a rank's slice, R1 every
# other step, DiffAugment on, style mixing on: every per-sample random draw goes through BatchRNG.
TINY = ["stylegan", "--dataset", "mnist5k", "--batch-size", "8", "--seed", "3", "--device", "cpu",
        "--log-every", "1", "--sample-every", "1000", "--ckpt-every", "2", "--no-tensorboard",
        "--augment", "translation,cutout", "--set", "r1_every=2", "--set", "n_mapping=2",
        "--set", "base_channels=8", "--set", "max_channels=16", "--threads", "1"]


def _env():
    return {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "OMP_NUM_THREADS": "1"}


def _train(out, steps, nproc=1, resume=None):
    launch = ([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]
              if nproc > 1 else [sys.executable])
    cmd = [*launch, "-m", "playground", "train", *TINY, "--steps", str(steps), "--out", str(out)]
    if resume:
        cmd += ["--resume", str(resume)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _weights(path):
    return load_file(str(path / "model.safetensors"))


def _assert_close(a, b, tol=5e-4):
    """Equal up to float rounding, relative to each tensor's scale: two processes sum gradients in
    another order (and run convs at batch 4 instead of 8), and R1's second-order term, taken on the
    augmented reals, amplifies last-bit differences over a few Adam steps (measured: 4.3e-4 on an
    affine weight of magnitude 3.4, about 1e-4 relative; a wrong slice or draw changes whole steps,
    differences of the order of the learning rate, 2e-3)."""
    assert a.keys() == b.keys()
    worst = max(((a[k].float() - b[k].float()).abs().max() / (1 + a[k].float().abs().max())).item() for k in a)
    assert worst < tol, f"largest relative weight difference {worst}"


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "one"
    log = _train(out, 4)
    return out, log


def test_two_gloo_processes_train_the_weights_of_one(one_process, tmp_path):
    one, one_log = one_process
    two = tmp_path / "two"
    log = _train(two, 4, nproc=2)
    _assert_close(_weights(one), _weights(two))
    # losses are averaged over ranks before logging: the same numbers as one process prints
    assert [ln.split()[:4] for ln in log.splitlines() if ln.startswith("step 4/4")] == \
           [ln.split()[:4] for ln in one_log.splitlines() if ln.startswith("step 4/4")]
    assert log.count("finished at step 4") == 1                       # only rank 0 reports
    cfg = json.loads((two / "config.json").read_text())
    assert cfg["world_size"] == 2 and cfg["batchnorm"] == "none"
    assert cfg["command"].startswith("torchrun --nproc_per_node 2 -m playground train stylegan")
    assert json.loads((one / "config.json").read_text())["world_size"] == 1


def test_resume_two_processes_in_one_and_back(one_process, tmp_path):
    one, _ = one_process
    _train(tmp_path / "a", 2, nproc=2)
    _train(tmp_path / "a", 4, nproc=1, resume=tmp_path / "a")            # 2 processes -> 1
    _assert_close(_weights(one), _weights(tmp_path / "a"))
    _train(tmp_path / "b", 2, nproc=1)
    _train(tmp_path / "b", 4, nproc=2, resume=tmp_path / "b")            # 1 process -> 2
    _assert_close(_weights(one), _weights(tmp_path / "b"))


@pytest.mark.parametrize("world, atexit_runs", [("2", False), ("1", True)])
def test_a_torchrun_rank_exits_with_its_code_and_flushed_output_but_no_finalisation(world, atexit_runs):
    """`exit_process` ends a torchrun rank without interpreter finalisation (a rank that had
    finished once aborted while leaving: CI stop 35), losing none of its printed lines; a plain
    process exits as usual."""
    code = ("import atexit; from playground.engine.dist import exit_process; "
            "atexit.register(lambda: print('finalised')); print('last line', end=''); exit_process(3)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**_env(), "WORLD_SIZE": world})
    assert r.returncode == 3
    assert r.stdout.startswith("last line")
    assert ("finalised" in r.stdout) is atexit_runs


def test_a_failed_rank_leaves_the_group_without_waiting_for_the_others(monkeypatch):
    """After a failure a rank must not wait at a barrier for peers that may never come."""
    import playground.engine.dist as dist_mod

    calls = []
    monkeypatch.setattr(dist_mod.tdist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist_mod.tdist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist_mod.tdist, "destroy_process_group", lambda: calls.append("destroy"))
    dist_mod.shutdown_current(clean=False)
    assert calls == ["destroy"]
    dist_mod.shutdown_current()
    assert calls == ["destroy", "barrier", "destroy"]


def test_batch_rng_slices_reproduce_one_draw():
    full = BatchRNG(torch.Generator().manual_seed(5)).randn(8, 3)
    parts = [BatchRNG(torch.Generator().manual_seed(5), rank=r, world=2).randn(4, 3) for r in range(2)]
    assert torch.equal(torch.cat(parts), full)
    g0, g1 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    BatchRNG(g0, 0, 2).randint(0, 9, 4)
    BatchRNG(g1, 1, 2).randint(0, 9, 4)
    assert torch.equal(g0.get_state(), g1.get_state())                  # ranks' generators stay in step


def test_batch_sampler_ranks_split_the_global_batch(idx_dir):
    from playground.data import load_dataset

    ds = load_dataset("mnist", "train", data_dir=str(idx_dir))
    cpu = torch.device("cpu")
    whole, _ = BatchSampler(ds, 8, 1, cpu).batch(3)
    halves = [BatchSampler(ds, 8, 1, cpu, Dist(rank=r, world=2)).batch(3)[0] for r in range(2)]
    assert torch.equal(torch.cat(halves), whole)
    with pytest.raises(ValueError, match="divide evenly"):
        BatchSampler(ds, 9, 1, cpu, Dist(rank=0, world=2))


def _pair():
    torch.manual_seed(0)
    G, D = torch.nn.Linear(4, 4), torch.nn.Linear(4, 1)
    opts = {"G": torch.optim.SGD(G.parameters(), lr=0.1), "D": torch.optim.SGD(D.parameters(), lr=0.1)}
    return G, D, opts


def test_update_writes_gradients_into_its_own_net_only():
    G, D, opts = _pair()
    update = Updater(opts, Dist(), Precision("fp32", "cpu"))
    d_before = [p.clone() for p in D.parameters()]
    g_before = [p.clone() for p in G.parameters()]
    update("G", D(G(torch.randn(5, 4))).mean())
    assert all(p.grad is None for p in D.parameters())                  # D untouched, no toggling needed
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert update.counts == {"G": 1, "D": 0}
    fresh = Updater(opts, Dist(), Precision("fp32", "cpu"))
    fresh.load_state_dict(update.state_dict())
    assert fresh.counts == {"G": 1, "D": 0}


def test_update_clips_the_gradient_norm():
    G, D, opts = _pair()
    update = Updater(opts, Dist(), Precision("fp32", "cpu"), clip_grad=1e-3)
    update("D", 1000 * D(torch.randn(5, 4)).sum())
    norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in D.parameters()))
    assert norm.item() == pytest.approx(1e-3, rel=1e-3)
    with pytest.raises(PlaygroundError, match="clipping"):
        Updater(opts, Dist(), Precision("fp32", "cpu"), clip_grad=-1)


def test_fp16_overflow_is_a_skipped_step_not_a_health_reading():
    """Loss scaling starts at 2^16 and overflows on a GAN's first steps by design: GradScaler skips
    that step and lowers its scale. The inf norm of the scaled gradients must not reach the health
    signals (the divergence check stopped every fp16 run at step 1 on the GPU). The scaler runs on
    the CPU here; the overflow is forced by a loss whose scaled gradient exceeds fp32's range."""
    G, D, opts = _pair()
    update = Updater(opts, Dist(), Precision("fp16", "cpu"))
    update.measure = True
    before = [p.clone() for p in D.parameters()]
    update("D", 1e34 * D(torch.ones(5, 4)).sum())         # x 65536: inf gradients
    assert update.take_grad_norms() == {}
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters()))          # the step was skipped
    assert update.scalers["D"].get_scale() < 2.0 ** 16                              # and the scale lowered
    update("D", D(torch.ones(5, 4)).sum())
    norms = update.take_grad_norms()
    assert set(norms) == {"health/grad_norm_D"} and torch.isfinite(norms["health/grad_norm_D"])
    assert not all(torch.equal(a, b) for a, b in zip(before, D.parameters()))     # this one stepped


def test_precision_choices():
    cpu = torch.device("cpu")
    with pytest.raises(PlaygroundError, match="needs a GPU"):
        make_precision("fp16", cpu)
    with pytest.raises(PlaygroundError, match="precision must be one of"):
        make_precision("fp8", cpu)
    p = make_precision("bf16", cpu)
    with p.autocast():
        y = torch.nn.Linear(4, 4)(torch.randn(2, 4))
        assert y.dtype == torch.bfloat16
        with p.full():
            assert torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype == torch.float32


@pytest.mark.parametrize("family,sets", [("wgan-gp", {"n_critic": "2", "width": "8"}),
                                          ("stylegan", {"base_channels": "8", "max_channels": "16", "r1_every": "1"})])
def test_bf16_training_steps_are_finite(idx_dir, family, sets):
    """The penalties (GP, R1) run in fp32 inside a bf16 step and the losses stay finite."""
    spec = TrainSpec(family=family, dataset="mnist", data_dir=str(idx_dir), steps=2, batch_size=8,
                     overrides=sets, precision="bf16", log_every=1, sample_every=100)
    events = list(train(spec))
    assert events[-1].kind == "done" and events[-1].message == "finished"
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 2 and all(torch.isfinite(torch.tensor(list(e.scalars.values()))).all() for e in steps)


def test_step_context_builds_its_own_updater(idx_dir):
    from playground.data import load_dataset

    G, D, opts = _pair()
    ds = load_dataset("mnist", "train", data_dir=str(idx_dir))
    ctx = StepContext(nets={"G": G, "D": D}, opts=opts, cfg=None, device=torch.device("cpu"),
                      sampler=BatchSampler(ds, 8, 0, torch.device("cpu")), gen=torch.Generator())
    assert isinstance(ctx.update, Updater)
    x, _ = ctx.next_batch()
    assert ctx.images_seen == 8 and ctx.randn(x.size(0), 4).shape == (8, 4)


def test_compiled_training_saves_the_plain_module(idx_dir, tmp_path):
    """--compile compiles in place: checkpoints keep the plain module's keys and load anywhere."""
    from playground.checkpoint import load_model_state
    from playground.families.gan import FAMILY
    from playground.models import load_model

    spec = TrainSpec(family="gan", dataset="mnist", data_dir=str(idx_dir), steps=2, batch_size=8,
                     compile=True, out=str(tmp_path / "run"), log_every=1, sample_every=100)
    assert list(train(spec))[-1].message == "finished"
    state = load_model_state(str(tmp_path / "run"))
    plain = FAMILY.build_generator(FAMILY.Config(img_channels=1, img_resolution=28))
    assert set(state) == set(plain.state_dict())
    x = load_model(str(tmp_path / "run")).G(torch.randn(2, plain.z_dim))
    assert x.shape == (2, 1, 28, 28)


def _tiny_spec(steps):
    return TrainSpec(family="stylegan", dataset="mnist5k", steps=steps, batch_size=8, seed=1, device="cpu",
                     overrides={"n_mapping": 2, "base_channels": 8, "max_channels": 16}, log_every=1,
                     sample_every=2, ckpt_every=1000, threads=1)


def test_a_job_trains_in_two_local_processes(tmp_path):
    """What the Train tab does with several GPUs: one run, N torchrun processes, one event stream."""
    from playground.server.jobs import JobManager, Limits

    jobs = JobManager(tmp_path, Limits(max_processes=2))
    with pytest.raises(PlaygroundError, match="processes must be between 1 and 2"):
        jobs.start(_tiny_spec(4), processes=3)
    run = jobs.start(_tiny_spec(4), processes=2)
    snap = jobs.wait(run, timeout=240)
    assert snap["status"] == "finished", snap["error"]
    assert snap["step"] == 4 and snap["processes"] == 2 and snap["grid"] is not None
    assert {h["name"] for h in snap["history"]} >= {"D/loss", "G/loss"}
    assert json.loads((tmp_path / run / "config.json").read_text())["world_size"] == 2
    assert JobManager(tmp_path, Limits()).limits.max_processes == 1    # one process per GPU; no GPU here


def test_stopping_a_multi_process_job(tmp_path):
    import time

    from playground.server.jobs import JobManager, Limits

    jobs = JobManager(tmp_path, Limits(max_processes=2))
    run = jobs.start(_tiny_spec(20_000), processes=2)
    deadline = time.time() + 180
    while jobs.status(run)["step"] < 2 and time.time() < deadline:
        time.sleep(0.2)
    asked = time.time()
    jobs.stop(run)
    snap = jobs.wait(run, timeout=60)
    assert snap["status"] == "stopped" and time.time() - asked < 20
    assert snap["step"] < 20_000


def test_eval_shards_generation_across_two_processes(tmp_path):
    """`torchrun ... eval`: each rank generates its slice of the samples, rank 0 gathers and
    measures; the FID is the one a single process gets from the same seeded samples."""
    from playground.eval.fidelity import fidelity_metrics
    from playground.models import load_model

    one = fidelity_metrics(load_model("cgan-fashion"), ["fid"], 500, 0, prefer="domain", shard=True)
    out = tmp_path / "fid.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "playground", "eval", "cgan-fashion", "--metrics", "fid", "--samples", "500", "--feature-net", "domain",
           "--json", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    fid = json.loads(out.read_text())["metrics"]["fid"]
    assert fid["generated_by"] == "2 process(es), sharded" and one["generated_by"] == "1 process(es), sharded"
    assert fid["value"] == pytest.approx(one["values"]["frechet_inception_distance"], abs=1e-6)
    assert r.stdout.count('"fid"') == 1                                  # one report, from rank 0


def test_train_tab_starts_a_run_in_two_processes(tmp_path, monkeypatch):
    """With more than one device (here: PLAYGROUND_MAX_PROCESSES=2 on CPU, gloo) the Train tab's
    processes slider starts one run in that many torchrun processes; with one device it is hidden."""
    import time

    from gradio_client import Client

    from playground.ui.app import build_app
    from conftest import serve

    monkeypatch.setenv("PLAYGROUND_MAX_PROCESSES", "2")
    demo = build_app(runs_dir=str(tmp_path / "runs"))
    try:
        client = Client(serve(demo), verbose=False)
        args = dict(family="cgan", dataset="mnist5k", loss="ns", batch_size=16, steps=20, device="cpu", processes=2)
        assert "cgan on mnist5k" in client.predict(**args, api_name="/train_start")
        deadline, text = time.time() + 240, ""
        while time.time() < deadline and "**finished**" not in text:
            time.sleep(1)
            text = client.predict(api_name="/train_status")[0]
        assert "**finished**" in text and "2 processes" in text and "step 20/20" in text
    finally:
        demo.close()
    slider = [c for c in demo.blocks.values() if getattr(c, "elem_id", None) == "tr-processes"][0]
    assert slider.visible and slider.maximum == 2
    monkeypatch.delenv("PLAYGROUND_MAX_PROCESSES")
    one = build_app(runs_dir=str(tmp_path / "runs1"))
    assert not [c for c in one.blocks.values() if getattr(c, "elem_id", None) == "tr-processes"][0].visible


def test_families_bench_times_cpu_bf16_beside_fp32():
    """`bench --only families` on the CPU has a bf16-autocast column beside fp32 at batch 64 (what
    `train --precision bf16` runs), with the ratio of the two."""
    from playground.tools.bench_families import bench_families

    row = bench_families("cpu", ["gan"], seconds=0.2)["families"]["gan"]
    for key in ("b64", "b64_bf16"):
        assert row[key]["batch"] == 64 and row[key]["img_per_s"] > 0
    assert row["bf16_speedup_b64"] == round(row["b64_bf16"]["img_per_s"] / row["b64"]["img_per_s"], 2)

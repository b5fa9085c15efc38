"""ZeroGPU: `spaces` is imported before torch, handlers run under @spaces.GPU, training stays on
the CPU there, and without the package nothing changes. A fake `spaces` module stands in for the
real one (which only does something on Hugging Face hardware)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port

from playground.ui import zerogpu

FAKE_SPACES = '''
import functools, json, os, sys
with open(os.environ["FAKE_SPACES_LOG"], "a") as f:
    f.write(json.dumps({"torch_loaded_before_spaces": "torch" in sys.modules}) + "\\n")
LEASES = []
def GPU(duration=60):
    def deco(fn):
        @functools.wraps(fn)
        def leased(*args, **kwargs):
            LEASES.append((fn.__name__, duration))
            return fn(*args, **kwargs)
        return leased
    return deco
'''


@pytest.fixture
def fake_spaces(tmp_path, monkeypatch):
    (tmp_path / "spaces.py").write_text(FAKE_SPACES)
    monkeypatch.setenv("FAKE_SPACES_LOG", str(tmp_path / "log.jsonl"))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("spaces", None)
    yield tmp_path
    sys.modules.pop("spaces", None)


def test_app_imports_spaces_before_torch(fake_spaces):
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=f"{fake_spaces}{os.pathsep}{root}", GRADIO_ANALYTICS_ENABLED="False",
               PLAYGROUND_RUNS_DIR=str(fake_spaces / "runs"))
    proc = subprocess.Popen([sys.executable, str(root / "app.py"), "--port", str(port)], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t = time.time()
        while not (fake_spaces / "log.jsonl").exists() and time.time() - t < 60:
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (fake_spaces / "log.jsonl").read_text().splitlines()[0] == '{"torch_loaded_before_spaces": false}'


def test_model_handlers_run_under_a_gpu_lease(fake_spaces, tmp_path):
    import gradio as gr

    from playground.ui.context import AppContext

    spaces = zerogpu.import_spaces()
    ctx = AppContext.create(tmp_path / "runs")

    def handler(model_name, n):
        return f"{model_name} x{n}"

    guarded = ctx.guard(handler)
    request = gr.Request(username=None, session_hash="abc")
    assert guarded("cgan-mnist", 3, request) == "cgan-mnist x3"
    assert spaces.LEASES == [("handler", zerogpu.DEFAULT_LEASE_S)]


def test_without_spaces_nothing_is_wrapped(monkeypatch):
    monkeypatch.setattr(zerogpu, "import_spaces", lambda: None)

    def f():
        return 1

    assert zerogpu.gpu_lease(f) is f


def test_training_stays_on_the_cpu_on_zerogpu(monkeypatch):
    from playground.ui import train

    assert train._device("cuda") == "cuda" and train._device("auto") is None
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert zerogpu.on_zerogpu()
    assert train._device("cuda") == "cpu" and train._device("auto") == "cpu"

import gzip
import os
import socket
import struct
import time

import numpy as np
import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def write_idx(path, array: np.ndarray, gz: bool = False) -> None:
    codes = {np.uint8: 0x08, np.int32: 0x0C}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def make_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tiny synthetic 'digits': class k is a bright bar at row 2k+4 plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 * k + 4: 2 * k + 6, 4:24] = 255
    return images, labels.astype(np.uint8)


@pytest.fixture
def idx_dir(tmp_path):
    """A folder with the four MNIST-style idx files (train gzipped, test plain)."""
    xi, yi = make_digits(256, 0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", xi, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", yi, gz=True)
    xt, yt = make_digits(64, 1)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", xt)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yt)
    return tmp_path


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)
    yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(demo) -> str:
    """Queue and launch a built app on a free loopback port; its URL (close with demo.close())."""
    from playground.ui.app import launch_kwargs

    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """A gradio_client on a fresh app (its own runs folder), shared by a test module."""
    from gradio_client import Client

    from playground.ui.app import build_app

    demo = build_app(runs_dir=str(tmp_path_factory.mktemp("app") / "runs"))
    yield Client(serve(demo), verbose=False)
    demo.close()


def run_to_end(client, timeout: float = 240) -> tuple:
    """Poll the Train tab's status until this session's run finishes or fails; the last status."""
    deadline, status = time.time() + timeout, None
    while time.time() < deadline:
        status = client.predict(api_name="/train_status")
        if "**finished**" in status[0] or "**error**" in status[0]:
            break
        time.sleep(1)
    return status


def by_setting(updates: list) -> dict:
    """/train_family_defaults' control updates by setting name (the Train tab's settings controls, in order)."""
    from playground.ui.train import tab_settings

    return dict(zip(tab_settings(), updates))

"""A hostile visitor of a public deployment, end to end against a served app: every attack from
the review is reproduced small (crafted headers, not gigabytes) and must get a clear error, cost
little memory and disk, and leave the server serving."""

import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageFile

from conftest import serve
from playground.server.access import set_shared, write_access
from playground import api
from playground.server.storage import DiskBudget, OutputFolder
from playground.ui.app import build_app

TRAIN = dict(family="cgan", dataset="mnist5k", loss="ns", lr=2e-4, beta1=0.5, beta2=0.999, n_critic=1, batch_size=16,
             steps=20, ema=0.0, seed=0, device="cpu", augment=False)
BUDGET_MB = 40


def png_header_only(width: int, height: int, mode_byte: int = 6) -> bytes:
    """A tiny PNG that declares width x height RGBA: decoding it would need width*height*4 bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode_byte, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 4)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row * 4))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    old = os.environ.get("PLAYGROUND_MAX_DISK_MB")
    os.environ["PLAYGROUND_MAX_DISK_MB"] = str(BUDGET_MB)
    demo = build_app(runs_dir=str(root / "runs"))
    if old is None:
        os.environ.pop("PLAYGROUND_MAX_DISK_MB")
    else:
        os.environ["PLAYGROUND_MAX_DISK_MB"] = old
    yield root, serve(demo)
    demo.close()


@pytest.fixture
def no_big_decode(monkeypatch):
    """Fails the test if any image over 16 megapixels is decoded anywhere in this process."""
    real = ImageFile.ImageFile.load

    def guarded(self):
        assert self.size[0] * self.size[1] <= 16_000_000, f"decoded a {self.size} image"
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", guarded)


def test_a_small_file_declaring_a_huge_image_is_refused_before_decoding(served, tmp_path, no_big_decode):
    _, url = served
    c = Client(url, verbose=False)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(13000, 13000))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(AppError, match="13000x13000"):
        c.predict("cyclegan-sneaker-boot", "a2b", handle_file(str(bomb)), api_name="/translate")
    with pytest.raises(AppError, match="13000x13000"):
        c.predict(handle_file(str(bomb)), ["srresnet-x4"], api_name="/upscale")
    with pytest.raises(AppError, match="13000x13000"):
        c.predict(handle_file(str(bomb)), ["srresnet-x4"], api_name="/upscale_check")
    assert c.predict("cgan-mnist", "3: 3", 2, 0, api_name="/generate")   # still serving


def _palette_white() -> Image.Image:
    im = Image.new("P", (30, 30), 1)                   # every pixel is index 1 ...
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)  # ... and index 1 is white
    return im


@pytest.mark.parametrize("make,expect", [
    (lambda: _palette_white(), "bright"),                             # palette: colours, not indices
    (lambda: Image.new("CMYK", (30, 30), (0, 0, 0, 0)), "bright"),   # CMYK white, not black
    (lambda: Image.new("LA", (30, 30), (250, 255)), "bright"),
    (lambda: Image.fromarray(np.full((30, 30), 60000, np.uint16)).convert("I;16"), "16-bit"),
])
def test_uncommon_image_modes_are_read_by_the_project_reader(served, tmp_path, make, expect):
    _, url = served
    c = Client(url, verbose=False)
    im = make()
    path = tmp_path / ("in.jpg" if im.mode == "CMYK" else "in.png")
    im.save(path)
    gallery, _, png, note = c.predict(handle_file(str(path)), ["srresnet-x4"], api_name="/upscale")
    sr = np.asarray(Image.open(png).convert("RGB"))
    if expect == "bright":
        assert sr.mean() > 150, (im.mode, sr.mean())
    else:
        assert "16-bit" in note


def _tiny_run_zip(root, name="z", resolution=None, family="dcgan") -> str:
    out = root / f"run-{name}"
    spec = api.TrainSpec(family=family, dataset="mnist5k", steps=1, batch_size=8, out=str(out),
                         overrides={"width": 4} if family == "dcgan" else {}, log_every=1, sample_every=1,
                         ckpt_every=1)
    list(api.train(spec))
    cfg = json.loads((out / "config.json").read_text())
    if resolution:
        cfg["config"]["img_resolution"] = resolution
    zp = root / f"{name}.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.write(out / "model.safetensors", "model.safetensors")
    return str(zp)


def test_a_run_zip_asking_for_a_huge_net_is_refused_before_building(served, tmp_path, monkeypatch):
    _, url = served
    import playground.server.runs_io as runs_io

    built = []
    real = runs_io.build_from_config
    monkeypatch.setattr(runs_io, "build_from_config", lambda meta: built.append(str(torch_device())) or real(meta))
    c = Client(url, verbose=False)
    with pytest.raises(AppError, match="img_resolution 512 is above this server's limit of 64"):
        c.predict(handle_file(_tiny_run_zip(tmp_path, "big", resolution=512)), api_name="/train_upload_run")
    assert built == []                                  # nothing was built, not even on the meta device


def torch_device():
    import torch

    return torch.empty(0).device


def test_refused_starts_unpack_nothing(served, tmp_path):
    root, url = served
    c = Client(url, verbose=False)
    zp = tmp_path / "imgs.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4):
            buf = io.BytesIO()
            Image.fromarray(np.full((32, 32), i * 60, np.uint8)).save(buf, format="PNG")
            z.writestr(f"a/{i}.png", buf.getvalue())
    args = {**TRAIN, "dataset": "uploaded zip of images", "upload": handle_file(str(zp))}
    for (key, value), message in [(("steps", 10**6), "greater than maximum"), (("n_critic", 10**6), "n_critic must be between"),
                                  (("ema", 2.0), "EMA decay"), (("ema", -0.1), "EMA decay"),
                                  (("lr", -1.0), "must be positive")]:
        # (NaN and inf cannot travel in JSON; the engine refuses them too: test_engine)
        with pytest.raises(AppError, match=message):
            c.predict(**{**args, key: value}, api_name="/train_start")
    assert not list((root / "runs" / "_data").glob("*")) if (root / "runs" / "_data").exists() else True


def test_another_visitor_cannot_use_a_private_run_until_it_is_shared(served, tmp_path):
    root, url = served
    alice, mallory = Client(url, verbose=False), Client(url, verbose=False)
    msg = alice.predict(handle_file(_tiny_run_zip(tmp_path, "alice")), api_name="/train_upload_run")
    name = msg.split("`")[1]
    path = str(root / "runs" / name)
    assert root.as_posix() not in msg                                # no server path in the message
    choices = [v for _, v in alice.predict("cgan-mnist", api_name="/refresh_models")["choices"]]
    assert path in choices
    others = [v for _, v in mallory.predict("cgan-mnist", api_name="/refresh_models")["choices"]]
    assert path not in others
    with pytest.raises(AppError):
        mallory.predict(path, "one row per class", 2, 0, api_name="/generate")
    assert "now shared" in alice.predict(True, api_name="/train_share")
    others = [v for _, v in mallory.predict("cgan-mnist", api_name="/refresh_models")["choices"]]
    assert path in others
    png = mallory.predict(path, "one row per class", 2, 0, api_name="/generate")
    assert Image.open(png).size[0] > 28
    from playground.errors import PlaygroundError

    with pytest.raises(PlaygroundError, match="only the visitor who"):
        set_shared(path, "someone else", False)


def test_access_checks_behind_the_lists(tmp_path):
    """Defence in depth: even a request that slips past the dropdown's choices is checked."""
    from playground.errors import PlaygroundError
    from playground.ui.context import AppContext

    ctx = AppContext.create(tmp_path / "runs")
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    write_access(run, "alice")
    ctx.check_access(str(run), "alice")
    for who, name in [("mallory", str(run)), ("alice", str(tmp_path)), ("alice", "/etc"),
                      ("alice", str(run / ".." / ".." / "runs" / "r1" / ".."))]:
        with pytest.raises(PlaygroundError, match="is available to you") as err:
            ctx.check_access(name, who)
        assert str(tmp_path) not in str(err.value)


def test_disk_budget_evicts_least_recently_used_runs(tmp_path):
    budget = DiskBudget(tmp_path, max_bytes=3000)
    for i, when in enumerate((100, 200, 300)):
        d = tmp_path / f"run{i}"
        d.mkdir()
        (d / "w").write_bytes(b"x" * 900)
        os.utime(d, (when, when))
    budget.make_room(900, protect=[tmp_path / "run0"])       # run0 is in use: run1 (next oldest) goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run0", "run2"]
    with pytest.raises(Exception, match="disk budget"):
        budget.make_room(5000)


def test_generated_files_stay_within_their_budget(tmp_path):
    out = OutputFolder(tmp_path, max_bytes=2500)
    for i in range(10):
        p = out.new_path("grid", ".png")
        p.write_bytes(b"x" * 1000)
        out.trim(keep=p, force=True)
    files = [f for f in tmp_path.iterdir() if not f.name.startswith(".")]
    assert sum(f.stat().st_size for f in files) <= 2500 and len(files) == 2


def test_uploaded_runs_stay_within_the_disk_budget(served, tmp_path):
    root, url = served
    c = Client(url, verbose=False)
    zp = _tiny_run_zip(tmp_path, "many", family="gan")           # a ~6 MB generator
    for _ in range(10):                                            # ~60 MB asked of a 40 MB budget
        c.predict(handle_file(zp), api_name="/train_upload_run")
    used = sum(f.stat().st_size for f in (root / "runs").rglob("*") if f.is_file())
    assert used <= BUDGET_MB * 2**20
    assert 3 <= len(list((root / "runs").glob("uploaded-*"))) < 10   # the oldest went, the newest stay

"""Every tab lists exactly the models of the kinds it can use (shipped ones and this server's runs),
and every model in every list produces a result through that tab's endpoint."""


import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import make_digits, serve, write_idx
from playground import api
from playground.api import Kind
from playground.ui import generate, infogan, stylemix, superres, text, translate
from playground.ui.app import build_app

# one tiny run per kind, trained on this server before the app starts
RUNS = {
    "gan": dict(family="gan", dataset="mnist"),
    "cgan": dict(family="cgan", dataset="mnist"),
    "infogan": dict(family="infogan", dataset="mnist", overrides={"width": 8}),
    "stylegan": dict(family="stylegan", dataset="mnist",
                     overrides={"z_dim": 8, "w_dim": 8, "n_mapping": 1, "base_channels": 4, "max_channels": 8}),
    "cyclegan": dict(family="cyclegan", dataset="mnist:0,1", overrides={"ngf": 4, "ndf": 4, "n_res": 1}),
    "srgan": dict(family="srgan", dataset="photos", overrides={"width": 4, "n_blocks": 1}),
    # text modules on the shipped StyleGAN; captions are Fashion-MNIST's, so the installed Fashion-MNIST
    "tedigan": dict(family="tedigan", dataset="fashion", data_dir=None, overrides={"hidden": 16, "width": 4}),
}
TABS = {  # elem_id of the tab's model list -> the kinds it may offer
    "gen-model": generate.KINDS, "ig-model": infogan.KINDS, "sm-model": stylemix.KINDS,
    "tl-model": translate.KINDS, "sr-models": superres.KINDS, "tx-model": text.KINDS,
}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tabs")
    data = root / "mnist"
    data.mkdir()
    x, y = make_digits(128)
    write_idx(data / "train-images-idx3-ubyte", x)
    write_idx(data / "train-labels-idx1-ubyte", y)
    runs = root / "runs"
    for name, kw in RUNS.items():
        spec = api.TrainSpec(**{"data_dir": str(data), **kw}, steps=2, batch_size=8, seed=0, out=str(runs / name),
                             log_every=1, sample_every=2, ckpt_every=2)
        assert list(api.train(spec))[-1].message == "finished"
    return runs


@pytest.fixture(scope="module")
def app(runs_dir):
    demo = build_app(runs_dir=str(runs_dir))
    yield demo, Client(serve(demo), verbose=False)
    demo.close()


def _component(demo, elem_id) -> dict:
    return next(c["props"] for c in demo.config["components"] if c.get("props", {}).get("elem_id") == elem_id)


def _listed(demo, elem_id) -> list[str]:
    return [value for _, value in _component(demo, elem_id)["choices"]]


def test_each_tab_lists_exactly_the_models_of_its_kinds(app, runs_dir):
    demo, _ = app
    everything = api.list_models(runs_dir)
    assert {m["kind"] for m in everything} == set(Kind)            # the fixture covers every kind
    for elem_id, kinds in TABS.items():
        expected = [m["name"] for m in everything if m["kind"] in kinds]
        assert _listed(demo, elem_id) == expected, elem_id
        assert any(str(runs_dir) in name for name in expected), f"{elem_id} lists no run of this server"
    # the bug this replaces: the generation tab offered translators and upscalers, which then failed
    offered = set(_listed(demo, "gen-model"))
    assert not offered & {"cyclegan-sneaker-boot", "srresnet-x4", "srgan-x4", str(runs_dir / "srgan")}


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_every_listed_model_works_through_its_tab(app, tmp_path):
    demo, client = app
    for name in _listed(demo, "gen-model"):
        shown = client.predict(name, generate.ALL_CLASSES, 3, 1, api_name="/generate")
        assert _png(shown).ndim >= 2 and _png(shown).size > 0, name
    cat = _component(demo, "ig-cat")["choices"][0][1]
    for name in _listed(demo, "ig-model"):
        img = client.predict(name, cat, 0, 0.5, -0.5, 0, 0, api_name="/infogan_image")
        assert _png(img).size > 0, name
    for name in _listed(demo, "sm-model"):
        img = client.predict(name, "0-2", "3-4", "coarse", 0, 1, 1.0, "on (fixed maps)", api_name="/style_mix")
        assert _png(img).size > 0, name
    Image.fromarray(np.full((30, 30, 3), 200, np.uint8)).save(tmp_path / "in.png")
    for name in _listed(demo, "tl-model"):
        _, out, _, note = client.predict(name, "a2b", handle_file(str(tmp_path / "in.png")), api_name="/translate")
        assert _png(out).size > 0 and "→" in note, name
    Image.fromarray(np.full((16, 12, 3), 90, np.uint8)).save(tmp_path / "lr.png")
    for name in _listed(demo, "sr-models"):
        _, _, png, note = client.predict(handle_file(str(tmp_path / "lr.png")), [name], api_name="/upscale")
        assert Image.open(png).size == (48, 64) and "output 48x64" in note, name
    for name in _listed(demo, "tx-model"):
        img, note = client.predict(name, "a dark dress", 0, 0.7, api_name="/text_to_image")
        assert _png(img).size > 0 and "a dark dress" in note, name


def test_refresh_offers_a_run_trained_after_the_page_opened(app, runs_dir):
    demo, client = app
    import shutil

    shutil.copytree(runs_dir / "gan", runs_dir / "gan-later")
    try:
        update = client.predict(str(runs_dir / "gan"), api_name="/refresh_models")
        assert update["value"] == str(runs_dir / "gan")                 # the selection is kept
        offered = [value for _, value in update["choices"]]
        assert str(runs_dir / "gan-later") in offered and str(runs_dir / "cyclegan") not in offered
        shown = client.predict(str(runs_dir / "gan-later"), generate.ALL_CLASSES, 2, 0, api_name="/generate")
        assert _png(shown).size > 0
    finally:
        shutil.rmtree(runs_dir / "gan-later")

"""Every app endpoint through gradio_client, against a real server on a free port."""

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import serve
from playground.ui.app import build_app


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo = build_app(runs_dir=str(tmp_path_factory.mktemp("app") / "runs"))
    yield serve(demo)
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def test_every_public_endpoint_is_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/interpolate", "/model_classes", "/random_seed", "/refresh_models",
            "/infogan_image", "/infogan_sweep", "/infogan_model", "/infogan_random_seed",
            "/train_family_defaults", "/train_start", "/train_stop", "/train_resume", "/train_status",
            "/train_download", "/train_upload_run", "/lab_train", "/evaluate", "/evaluate_compare",
            "/evaluate_refresh_models", "/translate", "/translate_batch", "/translate_options",
            "/upscale", "/upscale_check", "/style_mix", "/style_truncation_strip", "/style_latent_walk",
            "/style_random_seed", "/style_model", "/text_to_image", "/text_invert", "/text_edit"} <= names


def test_generate_one_row_per_class(client):
    png_path = client.predict("cgan-mnist", "one row per class", 5, 7, api_name="/generate")
    img = np.asarray(Image.open(png_path))
    # 10 rows of 5 digits with 2px padding: (28+2)*10+2 by (28+2)*5+2
    assert img.shape[:2] == (302, 152)
    assert Image.open(png_path).format == "PNG"


def test_generate_is_seeded_and_class_specific(client):
    a = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 1, api_name="/generate")))
    b = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 1, api_name="/generate")))
    c = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 2, api_name="/generate")))
    d = np.asarray(Image.open(client.predict("cgan-mnist", "8: 8", 4, 1, api_name="/generate")))
    assert (a == b).all() and not (a == c).all() and not (a == d).all()


def test_model_classes_and_dice(client):
    upd = client.predict("cgan-fashion", api_name="/model_classes")
    assert "9: Ankle boot" in str(upd)  # the dropdown update lists the classes by name
    client.predict("cgan-mnist", api_name="/model_classes")  # the session's dropdown follows the model
    seed = client.predict(api_name="/random_seed")
    assert 0 <= int(seed) < 2**31


def test_interpolate(client):
    path = client.predict("cgan-mnist", "2: 2", 0, 1, 6, api_name="/interpolate")
    img = np.asarray(Image.open(path))
    assert img.shape[1] > img.shape[0] * 4  # a horizontal strip of 6 frames


@pytest.mark.parametrize("args,message", [
    (("cgan-mnist", "one row per class", 5, -3), "less than minimum value 0"),
    (("cgan-mnist", "one row per class", 5, 2**40), "greater than maximum"),
    (("no-such", "one row per class", 5, 1), "not in the list of choices"),
])
def test_bad_input_is_an_error_toast_and_server_survives(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/generate")
    assert client.predict("cgan-mnist", "1: 1", 2, 0, api_name="/generate")


def test_infogan_endpoints(client):
    update = client.predict("infogan-mnist", api_name="/infogan_model")
    first = update[0]["value"]                       # 'code 0', or 'code 0 ≈ 5' once measured
    assert first.startswith("code 0")
    img = np.asarray(Image.open(client.predict("infogan-mnist", first, 0, 0.0, 0.0, 0, 0,
                                               api_name="/infogan_image")))
    img2 = np.asarray(Image.open(client.predict("infogan-mnist", first, 0, 2.0, 0.0, 0, 0,
                                                api_name="/infogan_image")))
    assert img.shape == img2.shape and not (img == img2).all()
    sweep = np.asarray(Image.open(client.predict("infogan-mnist", "c1", 0, 0, 0, 0, 0, api_name="/infogan_sweep")))
    assert sweep.shape[1] > sweep.shape[0] * 0.8  # 9 columns, 10 rows
    assert 0 <= int(client.predict(api_name="/infogan_random_seed"))


# /train_start by name: a setting left out keeps the family's default
TRAIN = dict(family="cgan", dataset="mnist5k", loss="ns", lr=2e-4, beta1=0.5, beta2=0.999, n_critic=1,
             batch_size=16, steps=40, ema=0.0, seed=0, device="cpu", augment=False)


def _wait_status(client, done, timeout=120):
    import time

    t = time.time()
    while time.time() - t < timeout:
        text = client.predict(api_name="/train_status")[0]
        if done(text):
            return text
        time.sleep(0.5)
    raise AssertionError(f"status never matched: {text}")


def test_train_run_lifecycle_and_ownership(server, client):
    defaults = client.predict("wgan-gp", api_name="/train_family_defaults")
    assert "(fixed by the family)" in str(defaults) and "10.0" in str(defaults)  # GP lambda = 10
    client.predict("cgan", api_name="/train_family_defaults")
    args = {**TRAIN, "steps": 5000}
    owner = Client(server, verbose=False)                     # another browser session
    text = owner.predict(**args, api_name="/train_start")
    assert "cgan on mnist5k" in text
    with pytest.raises(AppError, match="already going on this server"):
        client.predict(**TRAIN, api_name="/train_start")
    with pytest.raises(AppError, match="you have no run going"):
        client.predict(api_name="/train_stop")               # not yours: watch, don't touch
    assert "Another visitor's run is training" in client.predict(api_name="/train_status")[0]
    with pytest.raises(AppError, match="stop or finish a run of yours"):
        client.predict(api_name="/train_download")
    _wait_status(owner, lambda t: "running" in t and "step 0/" not in t)
    status = owner.predict(api_name="/train_status")
    assert status[1] is not None            # the loss plot has data
    owner.predict(api_name="/train_stop")
    text = _wait_status(owner, lambda t: "**stopped**" in t)
    zip_path = owner.predict(api_name="/train_download")
    assert zip_path.endswith(".zip")
    from gradio_client import handle_file

    msg = owner.predict(handle_file(zip_path), api_name="/train_upload_run")
    assert "Installed as" in msg and "/" not in msg.split("`")[1]   # no server path shown
    with pytest.raises(AppError, match="greater than maximum value 20000"):
        client.predict(**{**args, "steps": 10**9}, api_name="/train_start")


def test_lab_endpoint_streams_to_the_end(client):
    img, info = client.predict("ring", "hinge", 100, 0, api_name="/lab_train")
    assert "step 100" in info and "modes covered" in info
    assert np.asarray(Image.open(img)).ndim == 3


def test_evaluate_endpoints(client):
    res, fid_plot, _ = client.predict("cgan-mnist", ["fid", "cond-acc"], 200, 0, api_name="/evaluate")
    assert fid_plot is None or not fid_plot.get("data")             # no truncation curve for a cgan
    rows = res["data"]
    names = [r[0] for r in rows]
    assert names == ["fid", "cond-acc"]
    fid_row = rows[0]
    assert float(fid_row[1]) > 0 and fid_row[2].startswith("playground classifier") and fid_row[7] != ""
    cmp = client.predict("cgan-mnist", "infogan-mnist", ["fid"], 200, 0, api_name="/evaluate_compare")
    assert cmp["data"][0][0] == "fid" and "playground classifier (classifier-mnist5k)" in cmp["data"][0][3]
    with pytest.raises(AppError, match="at least one metric"):
        client.predict("cgan-mnist", [], 200, 0, api_name="/evaluate")
    with pytest.raises(AppError, match="the cond-acc metric: only conditional models"):
        client.predict("dcgan-fashion", ["cond-acc"], 200, 0, api_name="/evaluate")


def test_translate_endpoints(client, tmp_path):
    from gradio_client import handle_file

    Image.fromarray(np.full((50, 40, 3), 240, np.uint8)).save(tmp_path / "shoe.png")
    inp, out, rec, note = client.predict("cyclegan-sneaker-boot", "a2b", handle_file(str(tmp_path / "shoe.png")),
                                         api_name="/translate")
    assert "Sneaker → Ankle boot" in note and "greyscale" in note
    assert np.asarray(Image.open(out)).shape == np.asarray(Image.open(inp)).shape
    batch = np.asarray(Image.open(client.predict("cyclegan-sneaker-boot", "b2a", api_name="/translate_batch")))
    assert batch.shape[0] > 100
    opts = client.predict("cyclegan-trouser-dress", "a2b", api_name="/translate_options")
    assert "Trouser" in str(opts)
    client.predict("cyclegan-sneaker-boot", "a2b", api_name="/translate_options")


def test_upscale_endpoints(client, tmp_path):
    from gradio_client import handle_file

    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(tmp_path / "small.png")
    gallery, slider, png, note = client.predict(handle_file(str(tmp_path / "small.png")), ["srresnet-x4", "srgan-x4"],
                                                api_name="/upscale")
    assert len(gallery) == 3 and "output 128x96" in note   # bicubic + both models
    assert Image.open(png).size == (128, 96)
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / "hr.png")
    table, _ = client.predict(handle_file(str(tmp_path / "hr.png")), ["srresnet-x4"], api_name="/upscale_check")
    assert [r[0] for r in table["data"]] == ["bicubic", "srresnet-x4"]
    with pytest.raises(AppError, match="choose at least one model"):
        client.predict(handle_file(str(tmp_path / "hr.png")), [], api_name="/upscale")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(AppError):
        client.predict(handle_file(str(tmp_path / "broken.png")), ["srresnet-x4"], api_name="/upscale")


def test_style_mixing_endpoints(client):
    start, stop, text = client.predict("stylegan-fashion", api_name="/style_model")
    assert "7 style layers" in text and "coarse = layers 0-2" in text
    args = ["stylegan-fashion", "0-5", "10-15", "coarse", 0, 3, 1.0, "on (fixed maps)"]
    coarse = np.asarray(Image.open(client.predict(*args, api_name="/style_mix")))
    assert coarse.shape[0] == coarse.shape[1]                      # 7 x 7 tiles incl. the sources
    again = np.asarray(Image.open(client.predict(*args, api_name="/style_mix")))
    assert (coarse == again).all()
    args[3] = "fine"
    fine = np.asarray(Image.open(client.predict(*args, api_name="/style_mix")))
    assert fine.shape == coarse.shape and not (fine == coarse).all()
    args[3:6] = ["layer range", 0, 7]                              # all of A's styles
    ranged = np.asarray(Image.open(client.predict(*args, api_name="/style_mix")))
    assert not (ranged == coarse).all()
    strip = np.asarray(Image.open(client.predict("stylegan-fashion", "3", "off", api_name="/style_truncation_strip")))
    assert strip.shape[1] > 5 * strip.shape[0]                     # 9 images in a row
    gif = client.predict("stylegan-fashion", 0, 1, 0.7, api_name="/style_latent_walk")
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 32
    with pytest.raises(AppError, match="seeds must be whole numbers"):
        client.predict("stylegan-fashion", "1,x", "2", "coarse", 0, 3, 1.0, "off", api_name="/style_mix")
    assert int(client.predict(api_name="/style_random_seed")) >= 0


def test_text_endpoints(client, tmp_path):
    from gradio_client import handle_file

    img, note = client.predict("tedigan-fashion", "a long coat", 0, 0.7, api_name="/text_to_image")
    assert np.asarray(Image.open(img)).shape[0] > 100 and "a long coat" in note and "score" in note
    again, _ = client.predict("tedigan-fashion", "a long coat", 0, 0.7, api_name="/text_to_image")
    assert np.array_equal(np.asarray(Image.open(img)), np.asarray(Image.open(again)))
    Image.fromarray(np.full((60, 45, 3), 210, np.uint8)).save(tmp_path / "mine.png")
    original, inverted, inv_note = client.predict("tedigan-fashion", "my image", 0, handle_file(str(tmp_path / "mine.png")),
                                                  api_name="/text_invert")
    assert "PSNR" in inv_note and "resized" in inv_note and Image.open(inverted).size == Image.open(original).size
    before, after, edit_note = client.predict("tedigan-fashion", "seed", 4, None, "make it darker", 1.0,
                                              api_name="/text_edit")
    assert "score" in edit_note and "strength 1" in edit_note
    assert np.asarray(Image.open(after)).mean() < np.asarray(Image.open(before)).mean()
    for bad, message in [("", "empty"), ("y" * 300, "too long"), ("zxcv qwpo", "does not look like")]:
        with pytest.raises(AppError, match=message):
            client.predict("tedigan-fashion", bad, 0, 0.7, api_name="/text_to_image")
    with pytest.raises(AppError, match="upload an image first"):
        client.predict("tedigan-fashion", "my image", 0, None, api_name="/text_invert")
    client.predict("tedigan-fashion", "a dress", 0, 0.7, api_name="/text_to_image")   # still serving


def test_train_start_takes_named_documented_parameters(client):
    """One form, built from the settings schema: /train_start names each field (gradio_client calls
    it with keywords) and its description says what the endpoint does; the handler's docstring
    documents every parameter."""
    from playground.ui.train import form_fields, form_handler

    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for endpoint in ("/train_start", "/train_resume"):
        assert tuple(p["parameter_name"] for p in info[endpoint]["parameters"]) == form_fields()
    assert info["/train_start"]["description"].startswith("Start a background training run")
    doc = form_handler(lambda form, request: None, "x").__doc__
    assert all(f"    {name}: " in doc for name in form_fields())

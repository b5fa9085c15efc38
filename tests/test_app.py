"""Every app endpoint through gradio_client, against a real server on a free port."""

import socket

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from playground.ui.app import build_app, launch_kwargs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    demo = build_app()
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_kwargs())
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def test_every_public_endpoint_is_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/interpolate", "/model_classes", "/random_seed"} <= names


def test_generate_one_row_per_class(client):
    img_path, png_path = client.predict("cgan-mnist", "one row per class", 5, 7, api_name="/generate")
    img = np.asarray(Image.open(png_path))
    # 10 rows of 5 digits with 2px padding: (28+2)*10+2 by (28+2)*5+2
    assert img.shape[:2] == (302, 152)
    assert Image.open(img_path).format == "PNG"


def test_generate_is_seeded_and_class_specific(client):
    a = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 1, api_name="/generate")[1]))
    b = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 1, api_name="/generate")[1]))
    c = np.asarray(Image.open(client.predict("cgan-mnist", "3: 3", 4, 2, api_name="/generate")[1]))
    d = np.asarray(Image.open(client.predict("cgan-mnist", "8: 8", 4, 1, api_name="/generate")[1]))
    assert (a == b).all() and not (a == c).all() and not (a == d).all()


def test_model_classes_and_dice(client):
    upd = client.predict("cgan-fashion", api_name="/model_classes")
    assert "9: Ankle boot" in str(upd)  # the dropdown update lists the classes by name
    seed = client.predict(api_name="/random_seed")
    assert 0 <= int(seed) < 2**31


def test_interpolate(client):
    path = client.predict("cgan-mnist", "2: 2", 0, 1, 6, api_name="/interpolate")
    img = np.asarray(Image.open(path))
    assert img.shape[1] > img.shape[0] * 4  # a horizontal strip of 6 frames


@pytest.mark.parametrize("args,message", [
    (("cgan-mnist", "one row per class", 5, -3), "seed must be"),
    (("cgan-mnist", "one row per class", 5, 1.5), "whole number"),
    (("no-such", "one row per class", 5, 1), "not in the list of choices"),
])
def test_bad_input_is_an_error_toast_and_server_survives(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/generate")
    assert client.predict("cgan-mnist", "1: 1", 2, 0, api_name="/generate")

"""Helpers shared by the tabs: error translation, model choices, display scaling, who is asking."""

from __future__ import annotations

import functools
import inspect
import random
import re
from pathlib import Path

import gradio as gr
import numpy as np

from ..capabilities.limits import MAX_SEED
from ..errors import PlaygroundError
from ..images.convert import png_bytes, upscale_nearest
from ..server.storage import OutputFolder
from .refusals import refusal

DISPLAY_MIN_PX = 280  # tiny 28x28 samples are upscaled (nearest) so pixels stay crisp
_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/]+/)+([^\s'\"/]*)")


def redact(message: str) -> str:
    """Error texts shown to visitors name files, never server paths: '/srv/x/runs/ab' -> '…/ab'."""
    return _PATH.sub(lambda m: "…/" + m.group(1), message)


def user_errors(fn):
    """Turn PlaygroundError into a refusal (a Gradio error toast, server paths redacted, one log
    line); the server keeps serving."""
    where = fn.__name__
    if inspect.isgeneratorfunction(fn):  # streaming handlers must stay generators for Gradio

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except PlaygroundError as e:
                raise refusal(redact(str(e)), where) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PlaygroundError as e:
            raise refusal(redact(str(e)), where) from None

    return wrapper


def owner_of(request: gr.Request | None) -> str:
    """The browser session asking: runs it starts or uploads belong to it."""
    return (getattr(request, "session_hash", None) or "") if request is not None else ""


def for_display(img_u8: np.ndarray, min_px: int = DISPLAY_MIN_PX) -> np.ndarray:
    img = np.asarray(img_u8)
    factor = max(1, min_px // max(img.shape[0], img.shape[1]))
    img = upscale_nearest(img, factor) if factor > 1 else img
    return img[..., 0] if img.shape[-1] == 1 else img


def file_stem(text: str) -> str:
    """A safe file-name stem from a model name, which for a run is a path: its last part, with
    anything but letters, digits, '-', '_' and '.' replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(text)).name)[:64] or "model"


def save_output(data: bytes, stem: str, suffix: str, outputs: OutputFolder | None = None) -> str:
    """A generated file for download, in the bounded output folder; `stem` is made file-name safe
    (run names are paths)."""
    outputs = outputs or OutputFolder()
    path = outputs.new_path(file_stem(stem), suffix)
    path.write_bytes(data)
    outputs.trim(keep=path)
    return str(path)


def save_png(img_u8: np.ndarray, prefix: str) -> str:
    return save_output(png_bytes(img_u8), prefix, ".png")


def random_seed() -> int:
    return random.randint(0, 2**31 - 1)


def whole_number(value, what: str, low: int = 0, high: int | None = None) -> int:
    """A count or seed from a gr.Number (a float, or junk through the API) as an int in [low, high];
    fractions, junk and out-of-range values are refused with one clear line."""
    try:
        number = int(float(value))
        whole = float(value) == number
    except (TypeError, ValueError, OverflowError):
        raise PlaygroundError(f"{what} must be a whole number, got {str(value)[:40]!r}") from None
    if not whole:
        raise PlaygroundError(f"{what} must be a whole number, got {value!r}")
    if high is not None and not low <= number <= high:
        raise PlaygroundError(f"{what} must be between {low} and {high}, got {number}")
    if number < low:
        raise PlaygroundError(f"{what} must be at least {low}, got {number}")
    return number


def parse_seed(value) -> int:
    """Seeds arrive as floats from gr.Number; refuse fractions, junk and seeds out of range."""
    return whole_number(value, "seed", 0, MAX_SEED)


def model_dropdown(ctx, kinds, elem_id: str, api_name: str, label: str = "Model") -> gr.Dropdown:
    """The tab's model list (models of the kinds it can use, shipped and this server's runs) and a
    ↻ button that re-reads it, so runs trained or uploaded after the page opened appear."""
    choices = ctx.model_choices(kinds)
    with gr.Row():
        dropdown = gr.Dropdown(choices, value=choices[0][1] if choices else None, label=label,
                               elem_id=elem_id, scale=4)
        refresh = gr.Button("↻", scale=0, min_width=50, elem_id=f"{elem_id}-refresh")

    def refresh_list(current, request: gr.Request):
        return gr.Dropdown(choices=ctx.model_choices(kinds, owner_of(request)), value=current)

    refresh.click(refresh_list, dropdown, dropdown, api_name=api_name)
    return dropdown


def first_look(fn, *args, default=None):
    """What a tab shows the moment the page opens: `fn(*args)` rendered once when the app is built
    (the same for every visitor), or `default` when that cannot be made (e.g. no model installed)."""
    try:
        return fn(*args)
    except (PlaygroundError, gr.Error):
        return default

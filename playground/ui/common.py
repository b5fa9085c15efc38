"""Helpers shared by the tabs: error translation, model choices, display scaling."""

from __future__ import annotations

import functools
import inspect
import os
import random
import tempfile

import gradio as gr
import numpy as np

from ..errors import PlaygroundError
from ..imaging import png_bytes, upscale_nearest

DISPLAY_MIN_PX = 280  # tiny 28x28 samples are upscaled (nearest) so pixels stay crisp


def user_errors(fn):
    """Turn PlaygroundError into a Gradio error toast; the server keeps serving."""
    if inspect.isgeneratorfunction(fn):  # streaming handlers must stay generators for Gradio

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except PlaygroundError as e:
                raise gr.Error(str(e)) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PlaygroundError as e:
            raise gr.Error(str(e)) from None

    return wrapper


def for_display(img_u8: np.ndarray, min_px: int = DISPLAY_MIN_PX) -> np.ndarray:
    img = np.asarray(img_u8)
    factor = max(1, min_px // max(img.shape[0], img.shape[1]))
    img = upscale_nearest(img, factor) if factor > 1 else img
    return img[..., 0] if img.shape[-1] == 1 else img


def save_png(img_u8: np.ndarray, prefix: str) -> str:
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".png")
    with os.fdopen(fd, "wb") as f:
        f.write(png_bytes(img_u8))
    return path


def random_seed() -> int:
    return random.randint(0, 2**31 - 1)


def parse_seed(value) -> int:
    """Seeds arrive as floats from gr.Number; refuse fractions and junk with one clear line."""
    try:
        seed = int(float(value))
        whole = float(value) == seed
    except (TypeError, ValueError, OverflowError):
        raise PlaygroundError(f"seed must be a whole number, got {value!r}") from None
    if not whole:
        raise PlaygroundError(f"seed must be a whole number, got {value!r}")
    return seed

"""Reading user images safely: clear errors for non-images, truncated files and huge inputs."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import PlaygroundError

MAX_PIXELS = int(os.environ.get("PLAYGROUND_MAX_PIXELS", 16_000_000))


def open_image(src, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """A fully decoded PIL image from a path, bytes, PIL image or uint8 array.

    The size is checked from the header *before* decoding, so a decompression bomb is refused
    without allocating it; a truncated file fails here, not later.
    """
    if isinstance(src, Image.Image):
        im = src
    elif isinstance(src, np.ndarray):
        if src.dtype != np.uint8 or src.ndim not in (2, 3) or (src.ndim == 3 and src.shape[-1] not in (1, 3, 4)):
            raise PlaygroundError("image arrays must be uint8 [H, W] or [H, W, 1|3|4]")
        im = Image.fromarray(src[..., 0] if src.ndim == 3 and src.shape[-1] == 1 else src)
    else:
        try:
            data = src if isinstance(src, (bytes, bytearray)) else Path(src).read_bytes()
        except OSError as e:
            raise PlaygroundError(f"cannot read {src}: {e.strerror}") from None
        try:
            im = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, Image.DecompressionBombError, ValueError):
            raise PlaygroundError("the file is not an image this playground can read "
                                  "(png, jpeg, bmp, gif, webp, tiff)") from None
    w, h = im.size
    if w * h > max_pixels:
        raise PlaygroundError(f"image is {w}x{h} = {w * h:,} pixels; the limit is {max_pixels:,}")
    if w < 1 or h < 1:
        raise PlaygroundError("image has no pixels")
    try:
        im.load()
    except (OSError, SyntaxError) as e:
        raise PlaygroundError(f"the image is truncated or corrupt ({e})") from None
    return im


def normalise_mode(im: Image.Image, channels: int, dark_background: bool) -> tuple[Image.Image, list[str]]:
    """Any PIL mode -> 'L' (channels=1) or 'RGB' (channels=3); returns the steps taken."""
    steps = []
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        bits = 16 if im.mode.startswith("I;16") else 32
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        im = Image.fromarray(((arr - lo) / max(hi - lo, 1e-9) * 255).round().astype(np.uint8))
        steps.append(f"rescaled {bits}-bit values to 8 bits")
    if im.mode == "CMYK":
        im = im.convert("RGB")
        steps.append("converted CMYK to RGB")
    if im.mode in ("RGBA", "LA", "P", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (0, 0, 0, 255) if dark_background else (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba)
        steps.append("flattened transparency onto a " + ("black" if dark_background else "white") + " background")
    im = ImageOps.exif_transpose(im)
    if channels == 1 and im.mode != "L":
        im = im.convert("L")
        steps.append("converted colour to greyscale")
    elif channels == 3 and im.mode != "RGB":
        steps.append("converted greyscale to RGB" if im.mode in ("L", "1") else f"converted {im.mode} to RGB")
        im = im.convert("RGB")
    return im, steps


def to_model_input(im: Image.Image, size: int, channels: int, dark_background: bool) -> tuple[np.ndarray, list[str]]:
    """Convert any image to what a small model expects; say what was done.

    Returns uint8 [size, size, channels] and a list of human-readable steps.
    """
    im, steps = normalise_mode(im, channels, dark_background)
    w, h = im.size
    if w != h:
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        steps.append(f"centre-cropped {w}x{h} to {s}x{s}")
    if im.size != (size, size):
        steps.append(f"resized {im.size[0]}x{im.size[1]} to {size}x{size}")
        im = im.resize((size, size), Image.LANCZOS)
    arr = np.asarray(im, dtype=np.uint8)
    arr = arr[..., None] if arr.ndim == 2 else arr
    if dark_background:
        border = np.concatenate([arr[0].ravel(), arr[-1].ravel(), arr[:, 0].ravel(), arr[:, -1].ravel()])
        if border.mean() > 127:
            arr = 255 - arr
            steps.append("inverted (light background; the model was trained on dark backgrounds)")
    return arr, steps

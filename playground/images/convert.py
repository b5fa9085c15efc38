"""Image conversions: float tensors <-> uint8 arrays, grids, PNG/GIF bytes, bicubic resampling."""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images_u8.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] [N, C, H, W] -> uint8 [N, H, W, C] for display and files."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu()


def grid(images_u8: np.ndarray | torch.Tensor, nrow: int, pad: int = 2) -> np.ndarray:
    """uint8 [N, H, W, C] -> one uint8 [H', W', C] grid, `nrow` images per row, dark padding."""
    x = np.asarray(images_u8)
    n, h, w, c = x.shape
    rows = (n + nrow - 1) // nrow
    out = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, nrow)
        y0, x0 = pad + r * (h + pad), pad + k * (w + pad)
        out[y0:y0 + h, x0:x0 + w] = x[i]
    return out


def to_pil(img_u8: np.ndarray) -> Image.Image:
    img = np.asarray(img_u8)
    return Image.fromarray(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img)


def as_rgb(img_u8: np.ndarray) -> np.ndarray:
    """[H, W, 1] grey -> [H, W, 3]; RGB stays as it is (to put grey samples beside colour overlays)."""
    return img_u8 if img_u8.shape[2] == 3 else img_u8.repeat(3, axis=2)


def upscale_nearest(img_u8: np.ndarray, factor: int) -> np.ndarray:
    """Pixel-art upscale so 28x28 digits are visible in a browser without blur."""
    return np.asarray(img_u8).repeat(factor, axis=0).repeat(factor, axis=1)


def png_bytes(img_u8: np.ndarray, compress_level: int = 1) -> bytes:
    """Lossless PNG; level 1 encodes ~3x faster than PIL's default 6 for a few % more bytes on
    sample grids (a served app encodes one per request)."""
    buf = io.BytesIO()
    to_pil(img_u8).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def gif_bytes(frames_u8: np.ndarray, fps: int = 12, scale: int = 1) -> bytes:
    """uint8 [T, H, W, C] -> a looping animated GIF (nearest-upscaled by `scale`)."""
    frames = [to_pil(upscale_nearest(f, scale) if scale > 1 else f) for f in np.asarray(frames_u8)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                   duration=max(20, round(1000 / fps)))
    return buf.getvalue()


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """The LR counterpart: antialiased bicubic downsampling (what PIL's BICUBIC resize does)."""
    return F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False).clamp(-1, 1)


def bicubic_up(lr: torch.Tensor, scale: int) -> torch.Tensor:
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)

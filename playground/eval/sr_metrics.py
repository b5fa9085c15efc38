"""PSNR and SSIM as the SR literature reports them: on the Y channel (ITU-R BT.601, [16, 235]),
with `scale` pixels shaved from every border, images in 8-bit range."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from ..errors import PlaygroundError


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2 or img.shape[-1] == 1:
        return img.reshape(img.shape[:2])
    return 16.0 + (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255.0


def _prep(a, b, shave):
    if a.shape != b.shape:
        raise PlaygroundError(f"images differ in shape: {a.shape} vs {b.shape}")
    ya, yb = rgb_to_y(a), rgb_to_y(b)
    if shave:
        ya, yb = ya[shave:-shave, shave:-shave], yb[shave:-shave, shave:-shave]
    return ya, yb


def psnr_y(a: np.ndarray, b: np.ndarray, shave: int = 4) -> float:
    ya, yb = _prep(a, b, shave)
    mse = np.mean((ya - yb) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim_y(a: np.ndarray, b: np.ndarray, shave: int = 4) -> float:
    ya, yb = _prep(a, b, shave)
    return float(structural_similarity(ya, yb, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


PROTOCOL = "PSNR/SSIM on Y (BT.601), 4-px border shaved, LR = antialiased bicubic x1/4 of the HR photo"

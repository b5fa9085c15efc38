"""TensorBoard logging (the notes' choice over visdom). A no-op when no log dir is given."""

from __future__ import annotations

import numpy as np


class TBLogger:
    def __init__(self, logdir: str | None):
        self._w = None
        if logdir:
            from torch.utils.tensorboard import SummaryWriter  # heavy import: only when logging

            self._w = SummaryWriter(logdir)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self._w:
            for k, v in values.items():
                self._w.add_scalar(k, v, step)

    def image(self, step: int, tag: str, img_u8: np.ndarray) -> None:
        if self._w:
            self._w.add_image(tag, img_u8, step, dataformats="HWC")

    def text(self, tag: str, text: str) -> None:
        if self._w:
            self._w.add_text(tag, text)

    def close(self) -> None:
        if self._w:
            self._w.close()

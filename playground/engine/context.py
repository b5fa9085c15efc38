"""What a family's train_step sees: nets, optimisers, config, batches and private RNG."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..data.augment import diff_augment
from ..data.base import ImageDataset
from ..imaging import to_float


class StopRequested(Exception):
    """Raised inside a step when the run's stop flag is set: a step with a long inner loop (say
    n_critic = 1000) ends at its next batch instead of running to completion."""


class BatchSampler:
    """Stateless epoch shuffling: batch k of a run is a pure function of (seed, k).

    That makes resume exact without saving iterator state, and lets each DDP rank take its own
    slice of the same permutation later.
    """

    def __init__(self, ds: ImageDataset, batch_size: int, seed: int, device: torch.device):
        if len(ds) < batch_size:
            raise ValueError(f"dataset has {len(ds)} images, fewer than the batch size {batch_size}")
        self.images = ds.images.to(device)          # uint8 [N, C, H, W], resident on the device
        self.labels = None if ds.labels is None else ds.labels.to(device)
        self.batch_size = batch_size
        self.seed = seed
        self.per_epoch = len(ds) // batch_size       # drop the ragged tail, as drop_last=True
        self._epoch, self._perm = -1, None

    def batch(self, k: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        epoch, i = divmod(k, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(len(self.images), generator=g).to(self.images.device)
            self._epoch = epoch
        idx = self._perm[i * self.batch_size:(i + 1) * self.batch_size]
        x = to_float(self.images[idx])                              # [B, C, H, W] in [-1, 1]
        return x, (None if self.labels is None else self.labels[idx])


@dataclass
class StepContext:
    nets: dict[str, torch.nn.Module]
    opts: dict[str, torch.optim.Optimizer]
    cfg: Any
    device: torch.device
    sampler: BatchSampler
    gen: torch.Generator                 # noise, labels, augmentation: never the global RNG
    augment_policy: list[str] = field(default_factory=list)
    batches_seen: int = 0
    images_seen: int = 0
    step: int = 0
    extra: dict = field(default_factory=dict)   # family-owned state that must survive resume
    extra_modules: dict = field(default_factory=dict)  # family-owned helpers (e.g. a frozen VGG): not saved
    stop: threading.Event | None = None  # checked at every batch, so Stop ends even a long step

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.stop is not None and self.stop.is_set():
            raise StopRequested
        x, c = self.sampler.batch(self.batches_seen)
        self.batches_seen += 1
        self.images_seen += x.size(0)
        return x, c

    def randn(self, *shape) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen, device=self.device)

    def rand(self, *shape) -> torch.Tensor:
        return torch.rand(*shape, generator=self.gen, device=self.device)

    def randint(self, high: int, n: int) -> torch.Tensor:
        return torch.randint(0, high, (n,), generator=self.gen, device=self.device)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.augment_policy, self.gen) if self.augment_policy else x


TrainStep = Callable[[StepContext], dict]

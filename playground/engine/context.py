"""What a family's train_step sees: nets, optimisers, config, batches and private RNG."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..data.augment import diff_augment
from ..data.base import ImageDataset
from ..contract import Phase, Resources
from ..images.convert import to_float
from ..seed import BatchRNG
from .dist import Dist
from .update import Precision, Updater


class StopRequested(Exception):
    """Raised inside a step when the run's stop flag is set: a step with a long inner loop (say
    n_critic = 1000) ends at its next batch instead of running to completion."""


class BatchSampler:
    """Stateless epoch shuffling: batch k of a run is a pure function of (seed, k).

    That makes resume exact without saving iterator state. `batch_size` is the global batch; a DDP
    rank takes its own slice [rank*b, (rank+1)*b) of it, so N ranks together read exactly the
    images one process would.
    """

    def __init__(self, ds: ImageDataset, batch_size: int, seed: int, device: torch.device,
                 dist: Dist = Dist(), channels_last: bool = False):
        if len(ds) < batch_size:
            raise ValueError(f"dataset has {len(ds)} images, fewer than the batch size {batch_size}")
        if batch_size % dist.world:
            raise ValueError(f"the batch size {batch_size} is the global batch: it must divide evenly "
                             f"over {dist.world} processes")
        self.images = ds.images.to(device)          # uint8 [N, C, H, W], resident on the device
        self.labels = None if ds.labels is None else ds.labels.to(device)
        self.batch_size = batch_size
        self.local = batch_size // dist.world
        self.offset = dist.rank * self.local
        self.rank, self.world = dist.rank, dist.world
        self.channels_last = channels_last
        self.seed = seed
        self.per_epoch = len(ds) // batch_size       # drop the ragged tail, as drop_last=True
        self._epoch, self._perm = -1, None
        self._groups: dict[int, torch.Tensor] = {}
        self._group_perms: dict[int, tuple[int, torch.Tensor]] = {}
        self._labelled: dict[int, torch.Tensor] = {}

    def _permutation(self, epoch: int, group: int | None = None) -> torch.Tensor:
        """The epoch's shuffle of the whole dataset, or of the images labelled `group`."""
        if group is None:
            if epoch != self._epoch:
                g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                self._perm = torch.randperm(len(self.images), generator=g).to(self.images.device)
                self._epoch = epoch
            return self._perm
        members = self._group(group)
        cached = self._group_perms.get(group)
        if cached is None or cached[0] != epoch:
            g = torch.Generator().manual_seed(hash((self.seed, epoch, group)) & (2**63 - 1))
            cached = (epoch, members[torch.randperm(len(members), generator=g).to(members.device)])
            self._group_perms[group] = cached
        return cached[1]

    def _group(self, group: int) -> torch.Tensor:
        """Indices of the images labelled `group` (found once; a host sync at the first use only)."""
        if group not in self._groups:
            if self.labels is None:
                raise ValueError("batches by class need a labelled dataset")
            members = (self.labels == group).nonzero().squeeze(1)
            if len(members) == 0:
                raise ValueError(f"the dataset has no images of class {group}")
            self._groups[group] = members
        return self._groups[group]

    def labelled_subset(self, per_class: int) -> torch.Tensor:
        """Indices of a fixed labelled subset for semi-supervised training: `per_class` images of each
        class, chosen by the run's seed alone (so a resumed run keeps the same subset)."""
        if per_class not in self._labelled:
            if self.labels is None:
                raise ValueError("a labelled subset needs a labelled dataset")
            picks = []
            for k in torch.unique(self.labels).tolist():
                members = self._group(k)
                if len(members) < per_class:
                    raise ValueError(f"class {k} has {len(members)} images, fewer than {per_class} labelled per class")
                g = torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 * (k + 1))
                picks.append(members[torch.randperm(len(members), generator=g)[:per_class].to(members.device)])
            self._labelled[per_class] = torch.cat(picks)
        return self._labelled[per_class]

    def labelled(self, per_class: int, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images at `positions` of the labelled subset, with their labels."""
        return self._gather(self.labelled_subset(per_class)[positions])

    def batch(self, k: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        epoch, i = divmod(k, self.per_epoch)
        start = i * self.batch_size + self.offset
        return self._gather(self._permutation(epoch)[start:start + self.local])

    def span(self, pos: int, n: int, group: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch of `n` (global) whose size may change during a run (a schedule's batch per phase), or
        drawn from one class only (`group`: CycleGAN's domains): images [pos, pos + n) of the stream
        of epoch permutations laid end to end (an epoch's tail runs on into the next), this rank's
        slice of it. A pure function of (seed, group, pos, n), with no host sync."""
        if n % self.world or n < self.world:
            raise ValueError(f"the batch size {n} is the global batch: it must divide evenly over {self.world} processes")
        size = len(self.images) if group is None else len(self._group(group))
        if n > size:
            raise ValueError(f"the dataset has {size} such images, fewer than the batch size {n}")
        local = n // self.world
        start, count, parts = pos + self.rank * local, local, []
        while count:
            epoch, i = divmod(start, size)
            take = min(count, size - i)
            parts.append(self._permutation(epoch, group)[i:i + take])
            start, count = start + take, count - take
        return self._gather(torch.cat(parts))

    def _gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = to_float(self.images[idx])                              # [b, C, H, W] in [-1, 1]
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, (None if self.labels is None else self.labels[idx])


@dataclass
class StepContext:
    nets: dict[str, torch.nn.Module]
    opts: dict[str, torch.optim.Optimizer]
    cfg: Any
    device: torch.device
    sampler: BatchSampler
    gen: torch.Generator                 # noise, labels, augmentation: never the global RNG
    dist: Dist = Dist()
    precision: Precision = Precision("fp32", "cpu")
    augment_policy: list[str] = field(default_factory=list)
    batches_seen: int = 0
    images_seen: int = 0
    step: int = 0
    extra: dict = field(default_factory=dict)   # family-owned state that must survive resume
    extra_modules: dict = field(default_factory=dict)  # family-owned helpers (e.g. a frozen VGG): not saved
    resources: Resources = field(default_factory=Resources)  # what the run may use from above (classifiers, checkpoints)
    stop: threading.Event | None = None  # checked at every batch, so Stop ends even a long step
    update: Updater | None = None        # ctx.update("D", loss): the one optimiser-step site
    phase: Phase | None = None           # this step's phase, for families with a schedule (ProGAN)
    streams: dict = field(default_factory=dict)   # images taken from each sampler.span stream, by group

    def __post_init__(self):
        if self.update is None:
            self.update = Updater(self.opts, self.dist, self.precision)
        self.rng = BatchRNG(self.gen, self.dist.rank, self.dist.world)   # this rank's slice of each draw

    def next_batch(self, size: int | None = None, group: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next (global) batch: the run's --batch-size from the epoch shuffle by default; `size`
        (or the phase's batch size) and `group` (one class only) read a stream of their own."""
        if self.stop is not None and self.stop.is_set():
            raise StopRequested
        if size is None and self.phase is not None:
            size = self.phase.batch_size
        if size is None and group is None:
            x, c = self.sampler.batch(self.batches_seen)
        else:
            n, key = size or self.sampler.batch_size, "all" if group is None else str(group)
            x, c = self.sampler.span(self.streams.get(key, 0), n, group)
            self.streams[key] = self.streams.get(key, 0) + n
        self.batches_seen += 1
        self.images_seen += x.size(0) * self.dist.world
        return x, c

    def labelled_batch(self, n: int, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`n` images (this rank's share) drawn with replacement from the run's fixed labelled subset
        (BatchSampler.labelled_subset), with their labels. Not counted in images_seen: it re-reads
        a few images that the epoch stream also shows unlabelled."""
        size = len(self.sampler.labelled_subset(per_class))
        return self.sampler.labelled(per_class, self.randint(size, n))

    # Per-sample draws: the first dimension is this rank's batch (see seed.BatchRNG).
    def randn(self, n: int, *shape: int) -> torch.Tensor:
        return self.rng.randn(n, *shape)

    def rand(self, n: int, *shape: int) -> torch.Tensor:
        return self.rng.rand(n, *shape)

    def randint(self, high: int, n: int) -> torch.Tensor:
        return self.rng.randint(0, high, n)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.augment_policy, self.rng) if self.augment_policy else x

    def full_precision(self):
        """A region computed in fp32 even under --precision bf16/fp16 (penalties, R1)."""
        return self.precision.full()


TrainStep = Callable[[StepContext], dict]

"""A small CNN classifier per dataset, trained by this project, used to measure GANs.

It answers "is a sample asked for class k recognisably class k?" (conditional accuracy), and its
penultimate 128-d features stand in for Inception features where no Inception weights exist.
Its own accuracy on real held-out images is always reported beside any number it produces.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from .. import checkpoint
from ..data import load_dataset
from ..images.convert import to_float
from ..errors import PlaygroundError
from ..registry import CHECKPOINT_ROOT
from ..seed import make_generator, same_seeds

FAMILY = "classifier"


@dataclass
class ClassifierConfig:
    img_channels: int = 1
    img_resolution: int = 28
    num_classes: int = 10
    width: int = 32
    feature_dim: int = 128


class Classifier(nn.Module):
    """conv3-32, pool, conv3-64, pool, fc-128 (features), fc-K. Input [-1, 1], 28x28."""

    def __init__(self, img_channels=1, img_resolution=28, num_classes=10, width=32, feature_dim=128):
        super().__init__()
        self.img_resolution = img_resolution
        self.body = nn.Sequential(
            nn.Conv2d(img_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.MaxPool2d(2),                                          # [N, w, R/2, R/2]
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.MaxPool2d(2),                                          # [N, 2w, R/4, R/4]
            nn.Flatten(),
            nn.Linear(2 * width * (img_resolution // 4) ** 2, feature_dim), nn.ReLU(True),
        )
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def fit_input(self, x: torch.Tensor) -> torch.Tensor:
        """Centre-crop padded inputs (e.g. 32x32 models of 28x28 data) to the trained size."""
        r = self.img_resolution
        if x.shape[-1] != r:
            if x.shape[-1] < r:
                raise PlaygroundError(f"classifier expects {r}x{r} images, got {x.shape[-1]}")
            o = (x.shape[-1] - r) // 2
            x = x[..., o:o + r, o:o + r]
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.fit_input(x))                           # [N, feature_dim]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x)))                 # [N, K] logits


def classifier_dir(dataset: str) -> Path:
    base = dataset.split(":")[0]
    return CHECKPOINT_ROOT / f"classifier-{base}"


def load_classifier(dataset: str, device: str = "cpu") -> tuple[Classifier, dict]:
    """The classifier for a dataset (class subsets like 'fashion:7,9' use the full one)."""
    dataset = dataset.split(":")[0]
    path = classifier_dir(dataset)
    if not (path / checkpoint.CONFIG_FILE).is_file():
        raise PlaygroundError(
            f"no evaluation classifier for {dataset!r} at {path}; train one with "
            f"`python -m playground train-classifier --dataset {dataset.split(':')[0]} --out {path}`")
    meta = checkpoint.read_config(path)
    net = Classifier(**meta["config"])
    checkpoint.load_into(net, checkpoint.load_model_state(path), str(path))
    return net.to(device).eval(), meta


@torch.no_grad()
def predict(net: Classifier, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """float [-1, 1] [N, C, H, W] -> predicted labels [N]."""
    dev = next(net.parameters()).device
    return torch.cat([net(images[i:i + batch].to(dev)).argmax(1).cpu() for i in range(0, len(images), batch)])


def accuracy_on(net: Classifier, dataset: str, split: str = "test") -> float:
    ds = load_dataset(dataset.split(":")[0], split)
    pred = predict(net, to_float(ds.images))
    return (pred == ds.labels).float().mean().item()


def train_classifier(dataset: str, epochs: int, seed: int, out: str, batch_size: int = 128,
                     lr: float = 2e-3, command: str = "", log=print) -> dict:
    """Train on the train split with small random shifts; report accuracy on the test split."""
    same_seeds(seed)
    ds = load_dataset(dataset, "train")
    if ds.labels is None:
        raise PlaygroundError(f"{dataset} has no labels to train a classifier on")
    c, r, _ = ds.shape
    cfg = ClassifierConfig(img_channels=c, img_resolution=r, num_classes=ds.num_classes)
    net = Classifier(**dataclasses.asdict(cfg))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(ds) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    g = make_generator(seed)
    x_all, y_all = to_float(ds.images), ds.labels
    t0, step = time.time(), 0
    for epoch in range(epochs):
        perm = torch.randperm(len(ds), generator=g)
        net.train()
        for i in range(len(ds) // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            x = x_all[idx]
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()   # shift by up to 2 px
            x = torch.roll(x, (dx, dy), dims=(2, 3))
            loss = F.cross_entropy(net(x), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
        net.eval()
        acc = accuracy_on(net, dataset, "test")
        log(f"epoch {epoch + 1}/{epochs} loss {loss.item():.4f} test_acc {acc:.4f} ({time.time() - t0:.0f}s)")
    metrics = {"test_accuracy": round(acc, 4), "test_split": f"{dataset}/test",
               "test_images": len(load_dataset(dataset, "test"))}
    checkpoint.save(out, family=FAMILY, config=dataclasses.asdict(cfg), model_state=net.state_dict(),
                    step=step, meta={"dataset": dataset, "seed": seed, "command": command,
                                     "class_names": ds.class_names, "metrics": metrics})
    return metrics

"""The 2-D GAN lab: tiny MLP GANs on toy distributions, trained fast enough to animate.

It reuses the engine's adversarial update (`engine.steps.adversarial_step`) and the shared
losses, so what a user sees here is the same maths as the image families.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from ..data import toy2d
from ..engine.context import StepContext
from ..engine.diagnose import Diagnoser
from ..engine.health import mean_pairwise_distance
from ..steps import adversarial_step
from ..errors import PlaygroundError
from ..seed import reset_linear_

LOSSES = {  # label -> (loss, n_critic, clip, gp_weight, optimiser, default lr)
    "minimax": ("minimax", 1, 0.0, 0.0, "adam", 1e-3),
    "non-saturating": ("ns", 1, 0.0, 0.0, "adam", 1e-3),
    "hinge": ("hinge", 1, 0.0, 0.0, "adam", 1e-3),
    "wgan (clip)": ("wasserstein", 5, 0.05, 0.0, "rmsprop", 5e-4),
    # lambda = 0.1 as the WGAN-GP paper uses for its toy data (points live on a ~1-unit scale)
    "wgan-gp": ("wasserstein", 5, 0.0, 0.1, "adam_gp", 3e-4),
}
GRID = 40          # decision-surface resolution
ARROWS = 15        # gradient-field resolution
BOUND = 1.6


class G2(nn.Module):
    def __init__(self, z_dim=2, hidden=128):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, 0
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2))

    def forward(self, z):
        return self.net(z)


class D2(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(1)


class PointSampler:
    """Fresh toy points per batch, from the run's own generator (reproducible)."""

    def __init__(self, name: str, batch_size: int, g: torch.Generator):
        self.name, self.batch_size, self.g = name, batch_size, g

    def batch(self, k: int):
        return toy2d.sample(self.name, self.batch_size, self.g), None


@dataclass
class LabConfig:
    dataset: str = "ring"
    loss: str = "non-saturating"
    steps: int = 2000
    batch_size: int = 256
    lr: float | None = None     # None: the loss's default (LOSSES)
    seed: int = 0
    hidden: int = 64
    frame_every: int = 100


@dataclass
class Frame:
    step: int
    real: np.ndarray          # [N, 2]
    fake: np.ndarray          # [N, 2]
    surface: np.ndarray       # [GRID, GRID] D's score (sigmoid for the BCE losses), y rows, x cols
    arrows: tuple[np.ndarray, np.ndarray]   # positions [A, 2], G's descent directions [A, 2]
    scalars: dict
    coverage: dict
    diagnoses: tuple = ()     # what engine/diagnose.py has said about the run so far (messages)


def build(cfg: LabConfig) -> StepContext:
    if cfg.loss not in LOSSES:
        raise PlaygroundError(f"unknown loss {cfg.loss!r}; choose from {', '.join(LOSSES)}")
    toy2d.sample(cfg.dataset, 1, torch.Generator())  # validates the name
    # seeded weights from a private generator: a request never reseeds (or draws from) the
    # process-wide RNG that other requests' threads may be using
    with torch.device("meta"):
        G, D = G2(hidden=cfg.hidden), D2(hidden=cfg.hidden)
    init = torch.Generator().manual_seed(cfg.seed)
    G = reset_linear_(G.to_empty(device="cpu"), init)
    D = reset_linear_(D.to_empty(device="cpu"), init)
    loss, n_critic, clip, gp, opt, default_lr = LOSSES[cfg.loss]
    lr = cfg.lr or default_lr
    if opt == "rmsprop":
        opts = {k: torch.optim.RMSprop(n.parameters(), lr=lr) for k, n in (("G", G), ("D", D))}
    else:
        betas = (0.5, 0.9) if opt == "adam_gp" else (0.5, 0.999)
        opts = {k: torch.optim.Adam(n.parameters(), lr=lr, betas=betas) for k, n in (("G", G), ("D", D))}
    g = torch.Generator().manual_seed(cfg.seed)
    return StepContext(nets={"G": G, "D": D}, opts=opts, cfg=cfg, device=torch.device("cpu"),
                       sampler=PointSampler(cfg.dataset, cfg.batch_size, g), gen=g)


def step(ctx: StepContext) -> dict:
    loss, n_critic, clip, gp, _, _ = LOSSES[ctx.cfg.loss]
    ctx.step += 1
    return adversarial_step(ctx, loss=loss, n_critic=n_critic, clip=clip, gp_weight=gp)


def fake_points(ctx: StepContext, n: int = 1000, seed: int = 1) -> torch.Tensor:
    with torch.no_grad():
        return ctx.nets["G"](torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)))


def frame(ctx: StepContext, scalars: dict) -> Frame:
    D = ctx.nets["D"]
    loss = LOSSES[ctx.cfg.loss][0]
    axis = torch.linspace(-BOUND, BOUND, GRID)
    xy = torch.cartesian_prod(axis, axis).flip(1)            # row-major: y outer, x inner
    with torch.no_grad():
        s = D(xy).view(GRID, GRID)
        surface = torch.sigmoid(s) if loss in ("ns", "minimax") else s
    # G's gradient field: where the generator loss pushes a fake point at each position
    a = torch.linspace(-BOUND * 0.9, BOUND * 0.9, ARROWS)
    pos = torch.cartesian_prod(a, a).requires_grad_(True)
    from .. import losses as L

    g_loss = L.G_LOSSES[loss](D(pos))
    (grad,) = torch.autograd.grad(g_loss, pos)
    fake = fake_points(ctx)
    real = toy2d.sample(ctx.cfg.dataset, 1000, torch.Generator().manual_seed(12345))
    return Frame(ctx.step, real.numpy(), fake.numpy(), surface.numpy(), (pos.detach().numpy(), -grad.numpy()),
                 scalars, toy2d.coverage(fake, ctx.cfg.dataset))


def run(cfg: LabConfig, stop: threading.Event | None = None) -> Iterator[Frame]:
    """Frames every `frame_every` steps, with the engine's diagnoses (D wins over a third of the
    run, or 500 steps; collapse onto few modes at two frames in a row after the first fifth)."""
    ctx = build(cfg)
    diagnoser = Diagnoser(cfg.steps, window=min(500, max(cfg.steps // 3, 1)), warmup=cfg.steps // 5)
    said: list[str] = []
    scalars = {}
    yield frame(ctx, scalars)
    while ctx.step < cfg.steps and not (stop and stop.is_set()):
        scalars = {k: round(float(v), 4) for k, v in step(ctx).items()}
        if ctx.step % cfg.frame_every == 0 or ctx.step == cfg.steps:
            f = frame(ctx, scalars)
            found = diagnoser.at_log(ctx.step, scalars)
            if f.coverage:
                fake, real = torch.as_tensor(f.fake[:400]), torch.as_tensor(f.real[:400])
                spread = mean_pairwise_distance(fake) / max(mean_pairwise_distance(real), 1e-9)
                found += diagnoser.at_coverage(ctx.step, f.coverage["modes_covered"], f.coverage["modes_total"], spread)
            said += [d.message for d in found]
            yield dataclasses.replace(f, diagnoses=tuple(said))

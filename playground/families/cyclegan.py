"""CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B.

G_AB: A -> B and G_BA: B -> A are ResNet-style (strided-conv downsampling, residual blocks,
transposed-conv upsampling, InstanceNorm); D_A and D_B are PatchGANs. Least-squares adversarial
loss, cycle consistency ||G_BA(G_AB(a)) - a||_1 weighted lambda = 10, identity loss 0.5 * lambda,
a history pool of 50 generated images per discriminator, and a linear learning-rate decay to 0 over
the second half of training.

Data: one labelled dataset holding both domains (e.g. `fashion:7,9`, or a folder with two class
sub-folders); each step takes half of --batch-size from each domain, each domain from its own
shuffled stream (so no batch ever lacks a domain, and no step waits on the host).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .. import losses
from ..errors import PlaygroundError
from ..images.convert import grid, to_uint8
from ..nn.conv import norm_layer
from ..seed import as_batch_rng
from ..contract import AdamConfig, Family, Kind, setting


@dataclass
class Config(AdamConfig):
    # the dataset's two classes are domains A and B: both filled in from the data
    domain_a: int = setting(0, "domain A", "from the data: the class that is domain A", group="data")
    domain_b: int = setting(1, "domain B", "from the data: the class that is domain B", group="data")
    domain_names: tuple = setting(("A", "B"), "domain names", "from the data: the two classes' names", group="data")
    ngf: int = setting(16, "G width", "channels of the generators' first conv layer", low=1)
    ndf: int = setting(16, "D width", "channels of the PatchGAN discriminators' first conv layer", low=1)
    n_res: int = setting(3, "residual blocks", "residual blocks in each generator", low=0)
    lambda_cycle: float = setting(10.0, "λ cycle", "weight of the cycle-consistency loss ||F(G(a)) - a||₁",
                                  group="loss", low=0)
    lambda_identity: float = setting(0.5, "λ identity", "weight of the identity loss, times λ cycle",
                                     group="loss", low=0)
    pool_size: int = setting(50, "image pool", "past fakes D also sees (0 = none)", group="regularisation", low=0)
    total_steps: int = setting(0, "run length", "from the run: its steps (the learning rate decays over the "
                               "second half)", group="schedule")

    DERIVED: ClassVar[tuple[str, ...]] = AdamConfig.DERIVED + ("domain_a", "domain_b", "domain_names",
                                                               "total_steps")


def needs_labels(cfg: Config) -> bool:
    return True


def prepare_dataset(cfg: Config, ds, resources=None):
    """The labelled dataset's two classes become domains A and B."""
    present = sorted(set(ds.labels.tolist())) if ds.labels is not None else []
    if len(present) != 2:
        raise PlaygroundError(f"cyclegan needs exactly two classes (domains A and B), e.g. "
                              f"'fashion:7,9' or a folder with two sub-folders; {ds.name} has {len(present)}")
    names = (ds.class_names[present[0]], ds.class_names[present[1]])
    return dataclasses.replace(cfg, domain_a=present[0], domain_b=present[1], domain_names=names), ds


def fit_to_run(cfg: Config, steps: int) -> Config:
    return dataclasses.replace(cfg, total_steps=steps)


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer("instance", ch), nn.ReLU(True),
                                  nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer("instance", ch))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d2ngf, d4ngf, n_res x R4ngf, u2ngf, ungf, c7s1-C (Johnson et al. layout)."""

    def __init__(self, channels=1, ngf=16, n_res=3):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), norm_layer("instance", ngf), nn.ReLU(True)]
        ch = ngf
        for _ in range(2):                                            # [N, 4ngf, H/4, W/4]
            layers += [nn.Conv2d(ch, ch * 2, 3, 2, 1), norm_layer("instance", ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResBlock(ch) for _ in range(n_res)]
        for _ in range(2):                                            # back to [N, ngf, H, W]
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1), norm_layer("instance", ch // 2),
                       nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """C(ndf) - C(2ndf, IN) - C(4ndf, IN, stride 1) - 1: a score per overlapping patch."""

    def __init__(self, channels=1, ndf=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1), norm_layer("instance", ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 1, 1), norm_layer("instance", ndf * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 1))

    def forward(self, x):
        return self.net(x)                                            # [N, 1, h, w] patch scores


class Translator(nn.Module):
    """Both generators: what inference needs (saved as model.safetensors)."""

    def __init__(self, channels=1, ngf=16, n_res=3, img_resolution=28, domain_names=("A", "B")):
        super().__init__()
        self.G_AB = ResnetGenerator(channels, ngf, n_res)
        self.G_BA = ResnetGenerator(channels, ngf, n_res)
        self.img_channels, self.img_resolution = channels, img_resolution
        self.domain_names = tuple(domain_names)
        self.num_classes, self.z_dim = 0, 0

    def forward(self, x, direction: str = "a2b"):
        if direction not in ("a2b", "b2a"):
            raise ValueError("direction must be 'a2b' or 'b2a'")
        return self.G_AB(x) if direction == "a2b" else self.G_BA(x)


def build_generator(cfg: Config) -> Translator:
    return Translator(cfg.img_channels, cfg.ngf, cfg.n_res, cfg.img_resolution, cfg.domain_names)


def build(cfg: Config) -> dict:
    if cfg.img_resolution % 4:
        raise ValueError("CycleGAN needs a resolution divisible by 4")
    return {"G": build_generator(cfg), "D_A": PatchDiscriminator(cfg.img_channels, cfg.ndf),
            "D_B": PatchDiscriminator(cfg.img_channels, cfg.ndf)}


def optimizers(cfg: Config, nets: dict) -> dict:
    betas = (cfg.beta1, cfg.beta2)
    return {k: torch.optim.Adam(nets[k].parameters(), lr=cfg.lr if k == "G" else cfg.d_lr, betas=betas)
            for k in ("G", "D_A", "D_B")}


def pool_query(pool: torch.Tensor | None, images: torch.Tensor, size: int, g) -> tuple:
    """The history buffer (Shrivastava et al. 2017): D sees a mix of new and older fakes.

    Until the pool holds `size` images, new ones are added and returned. Afterwards each new image
    is, with probability 1/2, swapped for a random stored one (which is returned instead).
    Decided for the whole batch at once, on the device, with no host round trip; two images of
    one batch that draw the same slot both return its old content, and one of them is stored.
    Returns (images for D, updated pool)."""
    images = images.detach()
    if size == 0:
        return images, pool
    if pool is not None:
        pool = pool.to(images.device)  # a resumed pool comes back on the CPU
    have = 0 if pool is None else len(pool)          # a shape: known on the host without a sync
    k = min(size - have, len(images))                # filling: keep the first k as they are
    if k > 0:
        pool = images[:k].clone() if pool is None else torch.cat([pool, images[:k]])
    rest = images[k:]
    if len(rest) == 0:
        return images, pool
    rng = as_batch_rng(g)
    swap = rng.rand(len(rest)) < 0.5                                   # [m]
    slot = rng.randint(0, size, len(rest))                             # [m]
    old = pool[slot]                                                   # [m, C, H, W]
    keep = swap.view(-1, *[1] * (rest.dim() - 1))
    out = torch.where(keep, old, rest)
    # a non-swapping image writes the slot's old content back, a swapping one itself; swaps go
    # last so that (on the CPU; on CUDA a tie's winner is unspecified) they win a shared slot
    order = torch.argsort(swap.to(torch.int8), stable=True)            # non-swaps first
    pool = pool.clone()
    pool.index_put_((slot[order],), torch.where(keep, rest, old)[order])
    return torch.cat([images[:k], out]), pool


def _lr_factor(step: int, total: int, extra: dict) -> float:
    """1 for the first half, then linearly down to 0 at the last step.

    The decay is anchored where it started (`extra["decay"]`, saved with the run): a run resumed
    with more steps goes on from the factor it had reached, down to 0 at the new end, so the
    learning rate never rises again."""
    if total <= 0:
        return 1.0
    anchor = extra.get("decay")
    if anchor is None:
        if step < total // 2:
            return 1.0
        anchor = {"step": total // 2, "factor": 1.0, "total": total}
    elif anchor["total"] != total:       # resumed with another length: re-anchor at today's factor
        anchor = {"step": step, "factor": _decayed(anchor, step), "total": total}
    extra["decay"] = anchor
    return _decayed(anchor, step)


def _decayed(anchor: dict, step: int) -> float:
    start, total = anchor["step"], anchor["total"]
    return anchor["factor"] * max(0.0, 1.0 - (step - start) / max(total - start, 1))


def _split(ctx):
    """Half the batch from each domain, each from its own shuffled stream: fixed shapes, so no
    host sync (masking a mixed batch by label needs one per step on a GPU)."""
    half = max(ctx.sampler.batch_size // 2, ctx.dist.world)
    a, _ = ctx.next_batch(half, group=ctx.cfg.domain_a)
    b, _ = ctx.next_batch(half, group=ctx.cfg.domain_b)
    return a, b


def train_step(ctx) -> dict:
    cfg = ctx.cfg
    T, D_A, D_B = ctx.nets["G"], ctx.nets["D_A"], ctx.nets["D_B"]
    factor = _lr_factor(ctx.step, cfg.total_steps, ctx.extra)
    for name, opt in ctx.opts.items():
        for group in opt.param_groups:
            group["lr"] = (cfg.lr if name == "G" else cfg.d_lr) * factor
    a, b = _split(ctx)

    # generators: fool both Ds, cycle back, and leave the target domain's images alone
    fake_b, fake_a = T.G_AB(a), T.G_BA(b)
    adv = losses.g_lsgan(D_B(fake_b)) + losses.g_lsgan(D_A(fake_a))
    cycle = losses.cycle_l1(a, T.G_BA(fake_b)) + losses.cycle_l1(b, T.G_AB(fake_a))
    ident = losses.cycle_l1(b, T.G_AB(b)) + losses.cycle_l1(a, T.G_BA(a))
    g_loss = adv + cfg.lambda_cycle * cycle + cfg.lambda_cycle * cfg.lambda_identity * ident
    ctx.update("G", g_loss)

    # discriminators, on fakes drawn from the history pools
    pool_a, pool_b = ctx.extra.get("pool_a"), ctx.extra.get("pool_b")
    hist_a, pool_a = pool_query(pool_a, fake_a, cfg.pool_size, ctx.rng)
    hist_b, pool_b = pool_query(pool_b, fake_b, cfg.pool_size, ctx.rng)
    ctx.extra["pool_a"], ctx.extra["pool_b"] = pool_a, pool_b
    d_a = losses.d_lsgan(D_A(a), D_A(hist_a))
    d_b = losses.d_lsgan(D_B(b), D_B(hist_b))
    ctx.update("D_A", d_a)
    ctx.update("D_B", d_b)
    return {"G/loss": g_loss.detach(), "G/adv": adv.detach(), "G/cycle": cycle.detach(),
            "G/identity": ident.detach(), "D/loss": ((d_a + d_b) / 2).detach(), "lr": torch.tensor(cfg.lr * factor)}


@torch.no_grad()
def sample_grid(ctx, T) -> np.ndarray:
    """Rows: 8 fixed A images, their translations; 8 fixed B images, their translations."""
    cfg, s = ctx.cfg, ctx.sampler
    a = s.images[(s.labels == cfg.domain_a).nonzero().squeeze(1)[:8]]
    b = s.images[(s.labels == cfg.domain_b).nonzero().squeeze(1)[:8]]
    a, b = a.float() / 127.5 - 1, b.float() / 127.5 - 1
    was = T.training
    T.eval()
    rows = torch.cat([a, T.G_AB(a), b, T.G_BA(b)])
    T.train(was)
    return grid(to_uint8(rows).numpy(), nrow=8)


FAMILY = Family(name="cyclegan", kind=Kind.TRANSLATOR, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, needs_labels=needs_labels,
                prepare_dataset=prepare_dataset, fit_to_run=fit_to_run, preview=sample_grid)

"""The adversarial update shared by the loss-driven families (GAN, DCGAN, CGAN, WGAN, WGAN-GP).

A family calls `adversarial_step` with its loss functions and options; the engine's loop calls the
family. Keeping this here (not in a family) is what lets a family never import another, and below
the engine (a family gets its StepContext, `ctx`, as an argument) is what lets imports point down.

Health signals measured inside a step (`adversarial_health`) live here too; the engine's
`health.py` adds the ones measured on samples.
"""

from __future__ import annotations

from typing import Callable

import torch

from . import losses

PREFIX = "health/"
LOGIT_LOSSES = ("ns", "minimax", "hinge")


def adversarial_health(d_real: torch.Tensor, d_fake: torch.Tensor, loss: str) -> dict[str, torch.Tensor]:
    """D's accuracies and G's two candidate gradient sizes from the logits of one D update (tensors)."""
    if loss not in LOGIT_LOSSES:
        return {}
    d_real, d_fake = d_real.detach().float(), d_fake.detach().float()
    p_fake = torch.sigmoid(d_fake)
    return {f"{PREFIX}D_acc_real": (d_real > 0).float().mean(), f"{PREFIX}D_acc_fake": (d_fake < 0).float().mean(),
            f"{PREFIX}G_grad_ns": (1 - p_fake).mean(), f"{PREFIX}G_grad_minimax": p_fake.mean()}


# the losses the Train tab offers for the loss-driven families (minimax to see the saturation)
ADVERSARIAL_LOSSES = ("ns", "minimax", "hinge")


def _fake_labels(ctx, n: int, num_classes: int) -> torch.Tensor | None:
    return ctx.randint(num_classes, n) if num_classes else None


def _call(net, x, c):
    return net(x) if c is None else net(x, c)


def adversarial_step(ctx, *, loss: str, n_critic: int = 1, clip: float = 0.0,
                     gp_weight: float = 0.0,
                     after_d: Callable[[object], None] | None = None,
                     g_regulariser: Callable[[], torch.Tensor] | None = None,
                     mode_seeking: float = 0.0) -> dict[str, torch.Tensor]:
    """n_critic D updates then one G update. Returns detached scalars.

    `g_regulariser()` (e.g. BigGAN's orthogonal term) is added to G's loss and logged as G/reg.
    `mode_seeking` > 0 draws G's batch as pairs with the same label and different noise and adds
    that weight times MSGAN's term (losses.mode_seeking), logged as G/mode_seeking.

    With n_critic == 1 the fake batch of the G update is reused (detached) for the D update, as
    the reference CGAN does: one G forward per step instead of two.
    """
    G, D = ctx.nets["G"], ctx.nets["D"]
    d_loss_fn, g_loss_fn = losses.D_LOSSES[loss], losses.G_LOSSES[loss]
    K = G.num_classes
    out: dict[str, torch.Tensor] = {}

    def d_update(real, c_real, fake, c_fake):
        real, fake = ctx.augment(real), ctx.augment(fake)   # the penalty sees what the loss sees
        d_real = _call(D, real, c_real)
        d_fake = _call(D, fake, c_fake)
        d_loss = d_loss_fn(d_real, d_fake)
        total = d_loss
        if gp_weight:
            eps = ctx.rand(real.size(0), *[1] * (real.dim() - 1))  # one mix per sample
            with ctx.full_precision():
                gp = losses.gradient_penalty(D, real.float(), fake.float(), eps, c_real if K else None)
            total = d_loss + gp_weight * gp
            out["D/gp"] = gp.detach()
        ctx.update("D", total)
        if clip:
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-clip, clip)
        if after_d:
            after_d(ctx)
        out["D/loss"] = d_loss.detach()
        out["D/real"] = d_real.detach().mean()
        out["D/fake"] = d_fake.detach().mean()
        out.update(adversarial_health(d_real, d_fake, loss))
        if loss == "wasserstein":
            out["W_dist"] = (d_real.detach().mean() - d_fake.detach().mean())

    def with_reg(g_loss):
        if g_regulariser is None:
            return g_loss
        reg = g_regulariser()
        out["G/reg"] = reg.detach()
        return g_loss + reg

    def g_forward(n, c):
        c = _fake_labels(ctx, n, K) if c is None else c
        return _call(G, ctx.randn(n, G.z_dim), c), c

    def g_update(n):
        """G's step on a fresh batch; returns (fakes, labels) for D to reuse, and G's loss."""
        c = _fake_labels(ctx, n, K)
        if mode_seeking and c is not None:
            c = losses.share_in_pairs(c)
        z = ctx.randn(n, G.z_dim)
        fake = _call(G, z, c)
        g_loss = g_loss_fn(_call(D, ctx.augment(fake), c))
        total = with_reg(g_loss)
        if mode_seeking:
            ms = losses.mode_seeking(fake, z)
            total = total + mode_seeking * ms
            out["G/mode_seeking"] = ms.detach()
        ctx.update("G", total)                 # gradients reach G's weights only, never D's
        return fake, c, g_loss

    if n_critic > 1:
        for _ in range(n_critic):
            real, c_real = ctx.next_batch()
            with torch.no_grad():
                # the penalty interpolates real and fake pairs, so they share labels
                fake, c_fake = g_forward(real.size(0), c_real if gp_weight else None)
            d_update(real, c_real, fake, c_fake)
        _, _, g_loss = g_update(real.size(0))
    else:
        real, c_real = ctx.next_batch()
        fake, c_fake, g_loss = g_update(real.size(0))
        d_update(real, c_real, fake.detach(), c_fake)
    out["G/loss"] = g_loss.detach()        # last, as the logs and the divergence message expect
    return out


def adam_for(nets: dict, cfg) -> dict:
    """One Adam each for G and D with the config's betas: what most families want. D's learning
    rate is `lr_D` when set (a slower D is the usual cure when D wins), else `lr`."""
    betas = (cfg.beta1, cfg.beta2)
    return {"G": torch.optim.Adam(nets["G"].parameters(), lr=cfg.lr, betas=betas),
            "D": torch.optim.Adam(nets["D"].parameters(), lr=cfg.d_lr, betas=betas)}


def ttur_adam(nets: dict, lr_G: float, lr_D: float, betas: tuple[float, float]) -> dict:
    """Two time-scales (Heusel et al. 2017): G and D each with its own learning rate."""
    return {"G": torch.optim.Adam(nets["G"].parameters(), lr=lr_G, betas=betas),
            "D": torch.optim.Adam(nets["D"].parameters(), lr=lr_D, betas=betas)}

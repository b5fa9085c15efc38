"""GAN losses as pure functions of discriminator outputs (logits, never probabilities).

D returns logits and the sigmoid lives inside these losses (softplus form): numerically the same
as Sigmoid + BCE from the notes, but stable when D is confident.
"""

import torch
import torch.nn.functional as F


# ---- the original GAN (Goodfellow et al. 2014) ----

def d_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """G minimises E[log(1 - D(G(z)))]: saturates (vanishing gradient) when D wins."""
    return -F.softplus(fake_logits).mean()


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """The '-log D trick': G minimises -E[log D(G(z))]."""
    return F.softplus(-fake_logits).mean()


# ---- hinge (SAGAN / BigGAN) ----

def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()


def orthogonal_regularisation(weights, beta: float = 1e-4) -> torch.Tensor:
    """BigGAN's off-diagonal orthogonal regulariser: beta * sum ||W^T W * (1 - I)||_F^2 over the
    weights (each flattened to [out, in*k*k], W W^T between filters). Zero for orthogonal W; unlike
    full orthogonality it leaves the filters' norms free."""
    total = 0.0
    for w in weights:
        w = w.flatten(1)                                             # [out, fan_in]
        gram = w @ w.t()                                              # [out, out]
        off = gram * (1 - torch.eye(gram.size(0), device=w.device, dtype=w.dtype))
        total = total + off.pow(2).sum()
    return beta * total


# ---- Wasserstein (WGAN / WGAN-GP) ----

def d_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic loss D(fake) - D(real); its negative estimates the Earth-Mover distance."""
    return fake_scores.mean() - real_scores.mean()


def g_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor,
                     c: torch.Tensor | None = None) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] on x_hat = eps*x + (1-eps)*x_fake (Gulrajani et al.)."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = D(x_hat) if c is None else D(x_hat, c)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def drift_penalty(real_scores: torch.Tensor) -> torch.Tensor:
    """ProGAN's drift term E[D(x)^2] on reals (weighted by epsilon = 0.001): keeps the critic's
    output near zero, which the Wasserstein loss alone leaves free to wander."""
    return real_scores.square().mean()


def r1_penalty(real_scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real data; `real` must require grad."""
    (grad,) = torch.autograd.grad(real_scores.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


# ---- least squares (LSGAN, CycleGAN) and reconstruction ----

def d_lsgan(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()


def g_lsgan(fake_scores: torch.Tensor) -> torch.Tensor:
    return ((fake_scores - 1) ** 2).mean()


def cycle_l1(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    return (x - x_rec).abs().mean()


# ---- InfoGAN's mutual-information lower bound ----

def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """-log N(x; mean, exp(logvar)), summed over code dims, averaged over the batch (no constant)."""
    return (0.5 * (logvar + (x - mean) ** 2 * torch.exp(-logvar))).sum(1).mean()


def paired_mutual_information(p1: torch.Tensor, p2: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """I(y; y') of two cluster assignments of the same images (IIC, Ji et al. 2019), in nats.

    p1, p2: [N, K] softmax outputs for two views of each image. The joint is their batch-averaged
    outer product, symmetrised. I is high when the marginal is balanced (every cluster is used) and
    both views land in the same, confident cluster; at most log K.
    """
    joint = p1.t() @ p2 / p1.size(0)                    # [K, K]
    joint = ((joint + joint.t()) / 2).clamp_min(eps)
    pi, pj = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    return (joint * (joint.log() - pi.log() - pj.log())).sum()


# ---- diversity ----

def share_in_pairs(t: torch.Tensor) -> torch.Tensor:
    """A copy of t whose rows h..2h-1 repeat rows 0..h-1 (h = N // 2): the pairs mode_seeking
    compares. Used on the codes or labels a pair must share, never on the noise."""
    h = t.size(0) // 2
    t = t.clone()
    t[h:2 * h] = t[:h]
    return t


def mode_seeking(x: torch.Tensor, z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """MSGAN's mode-seeking term (Mao et al. 2019), to be minimised by G.

    x: [N, ...] images, z: [N, d] their noises; rows i and i + N // 2 form a pair drawn with the same
    code or label (share_in_pairs). The ratio of a pair's mean L1 image distance to its noises' is
    large when the noise moves the image; the loss is its inverse, so a G that ignores its noise
    (every noise draws the same image) is pushed hard and a diverse one barely.
    """
    h = x.size(0) // 2
    ratio = (x[:h] - x[h:2 * h]).abs().mean() / (z[:h] - z[h:2 * h]).abs().mean()
    return 1.0 / (ratio + eps)


D_LOSSES = {"ns": d_bce, "minimax": d_bce, "hinge": d_hinge, "wasserstein": d_wasserstein, "lsgan": d_lsgan}
G_LOSSES = {"ns": g_nonsaturating, "minimax": g_minimax, "hinge": g_hinge,
            "wasserstein": g_wasserstein, "lsgan": g_lsgan}

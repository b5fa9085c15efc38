"""InfoGAN (Chen et al. 2016): G's input is noise z plus a latent code c (one categorical code
and a few continuous ones), and an auxiliary head Q on D's penultimate features predicts c back
from G(z, c). Maximising this variational lower bound of I(c; G(z, c)) makes the codes mean
something: on MNIST the categorical code tends to pick the digit, continuous ones slant/width.

Contract mapping: G.z_dim = noise_dim + n_cont (the continuous codes are the last n_cont entries
of z, drawn from Uniform(-1, 1)); G.num_classes = n_cat and `c` is the categorical code. In the
unsupervised default, category k is *not* digit k: `eval --metrics code-acc` finds the matching.
"""

from dataclasses import dataclass
from typing import ClassVar, Mapping

import torch
from torch import nn
import torch.nn.functional as F

from .. import losses
from ..data.augment import style_jitter
from ..nn.conv import ConvDiscriminator, ConvGenerator, start_resolution
from ..seed import as_batch_rng
from ..contract import AdamConfig, Family, Kind, setting


@dataclass
class Config(AdamConfig):
    # num_classes: the dataset's classes, used only when supervised; G's num_classes is n_cat
    noise_dim: int = setting(62, "noise size", "length of the incompressible noise z (besides the codes)", low=1)
    n_cat: int = setting(10, "categories", "values of the categorical code c", low=1)
    n_cont: int = setting(2, "continuous codes", "number of continuous codes, each uniform in [-1, 1]", low=0)
    width: int = setting(64, "width", "channels of the widest conv layer", low=1)
    # "conv": the DCGAN bodies in nn/conv.py; "paper": the InfoGAN paper's MNIST nets (Table 1 of
    # its appendix): G = FC1024-BN-ReLU, FC(r0*r0*2w)-BN-ReLU, two 4x4 up-convs; D = two 4x4 strided
    # convs, FC1024-BN-LeakyReLU; Q sits on that 1024-d layer.
    arch: str = setting("conv", "architecture", "conv: DCGAN bodies; paper: the InfoGAN paper's MNIST nets",
                        choices=("conv", "paper"))
    lambda_cat: float = setting(1.0, "λ categorical", "weight of the categorical code's mutual-information term",
                                group="loss", low=0)
    lambda_cont: float = setting(0.1, "λ continuous", "weight of the continuous codes' mutual-information term",
                                 group="loss", low=0)
    # Weight of a categorical-invariance term (Elastic-InfoGAN's idea): Q must also recover the
    # categorical code from a re-styled copy of the fake (slant, rotation, scale, stroke width), so
    # the code cannot encode how a digit is written. 0 = the plain InfoGAN objective.
    lambda_invariance: float = setting(0.0, "λ invariance", "Q must recover the categorical code from a "
                                       "re-styled copy of the fake (0 = off)", group="loss", low=0)
    # Weight of a clustering term on *real* images (IIC's objective): Q's categorical prediction
    # for a real image and for a re-styled copy should agree, be confident, and use every category
    # equally often. It ties the categories to the data's own clusters, so G cannot leave a digit
    # out or give one digit two categories. Unsupervised: no labels are read. 0 = off.
    lambda_cluster: float = setting(0.0, "λ clustering", "IIC-style clustering of real images by Q "
                                    "(0 = off)", group="loss", low=0)
    # Floor on Q's predicted log-variance of each continuous code: unbounded, Q can shrink the
    # variance until the NLL term outweighs the rest. 0 (variance >= 1) = the original
    # implementation's fixed std of 1; lower lets the codes weigh more.
    min_logvar: float = setting(0.0, "min log-variance", "floor on Q's predicted log-variance for the "
                                "continuous codes", group="regularisation")
    # Weight of MSGAN's mode-seeking term (losses.mode_seeking): the batch is drawn as pairs that
    # share their codes (categorical and continuous) and differ in noise, and G is penalised when a
    # pair's images are close relative to their noises. 0 = the plain InfoGAN objective.
    lambda_diversity: float = setting(0.0, "λ mode seeking", "weight of MSGAN's mode-seeking term (0 = off)",
                                      group="loss", low=0)
    # Salimans et al.'s minibatch discrimination before D's score (conv nets only; Q's features are
    # unchanged): each image's closeness to the others of its batch, so near-copies (one image per
    # code, whatever the noise) look fake. False = the plain InfoGAN discriminator.
    d_minibatch_disc: bool = setting(False, "minibatch discrimination in D", "Salimans et al.'s minibatch "
                                     "discrimination before D's score (conv nets)", group="regularisation")
    supervised: bool = setting(False, "supervised", "Q learns every real image's label (the categorical code "
                               "becomes the class)", group="data")
    # Semi-supervised InfoGAN (Spurr et al. 2017, "Guiding InfoGAN with semi-supervision"): a fixed
    # subset of this many real images per class keeps its labels, and Q's categorical head also
    # learns them (cross-entropy, weight lambda_cat, a batch of them each step), so category k is
    # class k. G still draws its category at random and never sees a label; every other image is
    # unlabelled. 0 = unsupervised (no label is read).
    labels_per_class: int = setting(0, "labels per class", "semi-supervised: this many real images per class keep "
                                    "their label for Q (0 = unsupervised)", group="data", low=0)
    lr: float = setting(1e-3, "learning rate", "G's learning rate", group="optimiser", above=0, tab=True)
    lr_D: float = setting(2e-4, "D learning rate", "D's and Q's learning rate", group="optimiser", low=0, tab=True)

    REMOVED: ClassVar[Mapping[str, object]] = {"jitter_shade": 0.0, "d_minibatch_std": False}


def paper_generator_body(in_dim: int, img_channels: int, img_resolution: int, width: int) -> nn.Sequential:
    r0, n_up = start_resolution(img_resolution)
    if n_up != 2:
        raise ValueError("the paper architecture is for 28x28 images")
    ch = 2 * width
    return nn.Sequential(nn.Flatten(), nn.Linear(in_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(True),
                         nn.Linear(1024, ch * r0 * r0), nn.BatchNorm1d(ch * r0 * r0), nn.ReLU(True),
                         nn.Unflatten(1, (ch, r0, r0)),
                         nn.ConvTranspose2d(ch, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(True),
                         nn.ConvTranspose2d(width, img_channels, 4, 2, 1), nn.Tanh())


class PaperDiscriminator(nn.Module):
    """The paper's D body; `features` is the 1024-d layer that Q shares."""

    def __init__(self, img_channels: int, img_resolution: int, width: int):
        super().__init__()
        r0, n_down = start_resolution(img_resolution)
        if n_down != 2:
            raise ValueError("the paper architecture is for 28x28 images")
        self.body = nn.Sequential(nn.Conv2d(img_channels, width, 4, 2, 1), nn.LeakyReLU(0.1, True),
                                  nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width),
                                  nn.LeakyReLU(0.1, True), nn.Flatten(),
                                  nn.Linear(2 * width * r0 * r0, 1024), nn.BatchNorm1d(1024),
                                  nn.LeakyReLU(0.1, True))
        self.feature_channels = 1024
        self.head = nn.Linear(1024, 1)

    def features(self, x):
        return self.body(x)                                         # [N, 1024]

    def forward(self, x):
        return self.head(self.features(x)).flatten()               # [N]


class InfoGenerator(ConvGenerator):
    def __init__(self, noise_dim, n_cat, n_cont, img_channels, img_resolution, width, arch="conv"):
        super().__init__(noise_dim + n_cont, n_cat, img_channels, img_resolution, width)
        self.noise_dim, self.n_cont = noise_dim, n_cont
        if arch == "paper":
            self.net = paper_generator_body(noise_dim + n_cont + n_cat, img_channels, img_resolution, width)
        elif arch != "conv":
            raise ValueError(f"unknown InfoGAN arch {arch!r} (conv or paper)")

    def sample_latent(self, n: int, g: torch.Generator) -> torch.Tensor:
        """[noise ~ N(0, 1) | continuous codes ~ U(-1, 1)]: [n, noise_dim + n_cont]."""
        rng = as_batch_rng(g)
        noise = rng.randn(n, self.noise_dim)
        cont = rng.rand(n, self.n_cont) * 2 - 1
        return torch.cat([noise, cont], dim=1)

    def apply_controls(self, z: torch.Tensor, code_cont=None) -> torch.Tensor:
        if code_cont is not None:
            v = torch.as_tensor(code_cont, dtype=z.dtype, device=z.device).reshape(-1, self.n_cont)
            z = z.clone()
            z[:, self.noise_dim:] = v.expand(z.size(0), -1)
        return z


class QHead(nn.Module):
    """From D's features: categorical logits and, per continuous code, a mean and log-variance."""

    def __init__(self, in_ch: int, r0: int, n_cat: int, n_cont: int, hidden: int = 128, min_logvar: float = -6.0):
        super().__init__()
        self.n_cat, self.n_cont, self.min_logvar = n_cat, n_cont, min_logvar
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_ch * r0 * r0, hidden),
                                  nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2, True))
        self.out = nn.Linear(hidden, n_cat + 2 * n_cont)

    def forward(self, feats):
        h = self.out(self.body(feats))
        logits, mu, logvar = h.split([self.n_cat, self.n_cont, self.n_cont], dim=1)
        return logits, mu, logvar.clamp(self.min_logvar, 4)


def build_generator(cfg: Config) -> InfoGenerator:
    return InfoGenerator(cfg.noise_dim, cfg.n_cat, cfg.n_cont, cfg.img_channels, cfg.img_resolution, cfg.width,
                         cfg.arch)


def build(cfg: Config) -> dict:
    if (cfg.supervised or cfg.labels_per_class) and cfg.num_classes != cfg.n_cat:
        raise ValueError(f"(semi-)supervised InfoGAN needs n_cat == the dataset's classes ({cfg.num_classes})")
    if cfg.labels_per_class < 0 or (cfg.labels_per_class and cfg.supervised):
        raise ValueError("labels_per_class must be >= 0, and it is for the semi-supervised variant "
                         "(supervised=true already reads every label)")
    if cfg.arch == "paper":
        if cfg.d_minibatch_disc:
            raise ValueError("d_minibatch_disc is for the conv nets (arch=conv)")
        D, r0 = PaperDiscriminator(cfg.img_channels, cfg.img_resolution, cfg.width), 1
    else:
        D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch",
                              minibatch_disc=cfg.d_minibatch_disc)
        r0, _ = start_resolution(cfg.img_resolution)
    return {"G": build_generator(cfg), "D": D, "Q": QHead(D.feature_channels, r0, cfg.n_cat, cfg.n_cont,
                                                                   min_logvar=cfg.min_logvar)}


def needs_labels(cfg: Config) -> bool:
    return cfg.supervised or cfg.labels_per_class > 0


def optimizers(cfg: Config, nets: dict) -> dict:
    """Q shares D's body and is trained with D, as in the original implementation."""
    betas = (cfg.beta1, cfg.beta2)
    return {"D": torch.optim.Adam([*nets["D"].parameters(), *nets["Q"].parameters()], lr=cfg.d_lr, betas=betas),
            "G": torch.optim.Adam(nets["G"].parameters(), lr=cfg.lr, betas=betas)}


def info_loss(Q, feats, cat, cont, cfg) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logits, mu, logvar = Q(feats)
    ce = F.cross_entropy(logits, cat)
    nll = losses.gaussian_nll(cont, mu, logvar)
    return cfg.lambda_cat * ce + cfg.lambda_cont * nll, ce, nll


def restyled_logits(Q, D, x, ctx) -> torch.Tensor:
    """Q's categorical logits for a re-styled (slant, scale, stroke) copy of the batch x."""
    return Q(D.features(ctx.augment(style_jitter(x, ctx.rng))))[0]


def invariance_loss(Q, D, fake, cat, ctx) -> torch.Tensor:
    """Cross-entropy of Q's categorical prediction on a re-styled copy of the fake."""
    return F.cross_entropy(restyled_logits(Q, D, fake, ctx), cat)


def cluster_information(Q, D, real, f_real, ctx) -> torch.Tensor:
    """Mutual information between Q's categories for real images and for re-styled copies."""
    p1 = F.softmax(Q(f_real)[0], dim=1)
    p2 = F.softmax(restyled_logits(Q, D, real, ctx), dim=1)
    return losses.paired_mutual_information(p1, p2)


def train_step(ctx) -> dict:
    cfg, G, D, Q = ctx.cfg, ctx.nets["G"], ctx.nets["D"], ctx.nets["Q"]
    real, labels = ctx.next_batch()
    n = real.size(0)
    z = G.sample_latent(n, ctx.rng)                                  # [n, noise + n_cont]
    cat = labels if cfg.supervised else ctx.randint(cfg.n_cat, n)
    if cfg.lambda_diversity:  # pairs share both codes; each row keeps its own noise
        z = torch.cat([z[:, :G.noise_dim], losses.share_in_pairs(z[:, G.noise_dim:])], dim=1)
        cat = losses.share_in_pairs(cat)
    cont = z[:, G.noise_dim:]
    fake = G(z, cat)                                                 # [n, C, H, W]

    # G: fool D, and make (cat, cont) recoverable by Q from the fake
    feats = D.features(ctx.augment(fake))
    adv = losses.g_nonsaturating(D.head(feats).flatten())
    info_g, _, _ = info_loss(Q, feats, cat, cont, cfg)
    if cfg.lambda_invariance:
        info_g = info_g + cfg.lambda_invariance * invariance_loss(Q, D, fake, cat, ctx)
    stats = {}
    if cfg.lambda_diversity:
        div = losses.mode_seeking(fake, z[:, :G.noise_dim])
        info_g = info_g + cfg.lambda_diversity * div
        stats["G/mode_seeking"] = div.detach()
    ctx.update("G", adv + info_g)

    # D and Q: tell real from fake, and recover the codes of the (detached) fake
    f_real = D.features(ctx.augment(real))
    f_fake = D.features(ctx.augment(fake.detach()))
    d_loss = losses.d_bce(D.head(f_real).flatten(), D.head(f_fake).flatten())
    info, ce, nll = info_loss(Q, f_fake, cat, cont, cfg)
    total = d_loss + info
    if cfg.lambda_invariance:
        total = total + cfg.lambda_invariance * invariance_loss(Q, D, fake.detach(), cat, ctx)
    if cfg.lambda_cluster:
        mi = cluster_information(Q, D, real, f_real, ctx)
        total = total - cfg.lambda_cluster * mi
        stats["info/real_cluster_mi"] = mi.detach()
    if cfg.supervised:  # the notes' supervised variant: Q also learns the true labels of real images
        total = total + cfg.lambda_cat * F.cross_entropy(Q(f_real)[0], labels)
    if cfg.labels_per_class:  # semi-supervised: only the fixed labelled subset's labels are read
        x_lab, y_lab = ctx.labelled_batch(n, cfg.labels_per_class)
        sup = F.cross_entropy(Q(D.features(ctx.augment(x_lab)))[0], y_lab)
        total = total + cfg.lambda_cat * sup
        stats["info/labelled_ce"] = sup.detach()
    ctx.update("D", total)
    return {"D/loss": d_loss.detach(), "G/loss": adv.detach(), "info/loss": info.detach(),
            "info/cat_ce": ce.detach(), "info/cont_nll": nll.detach(), **stats}


def describe(cfg: dict) -> list[str]:
    if cfg.get("supervised"):
        how = "supervised (true labels as the categorical code)"
    elif cfg.get("labels_per_class"):
        how = (f"semi-supervised: {cfg['labels_per_class']} labelled real images per class teach Q the classes; "
               "G never sees a label and every other image is unlabelled")
    else:
        how = "unsupervised: no label is read in training"
    lines = [f"- {how}; "
             f"{cfg.get('n_cat')}-way categorical code (weight {cfg.get('lambda_cat')}), {cfg.get('n_cont')} "
             f"continuous codes U(-1, 1) (weight {cfg.get('lambda_cont')}), `{cfg.get('arch')}` nets"]
    if cfg.get("lambda_invariance"):
        lines.append(f"- categorical invariance (weight {cfg['lambda_invariance']}): Q must also recover the "
                     "category from a re-slanted, rescaled, re-stroked copy of each fake")
    if cfg.get("lambda_diversity"):
        lines.append(f"- mode seeking (weight {cfg['lambda_diversity']}, MSGAN): pairs that share their codes must "
                     "differ when their noise does, so the noise draws different styles")
    if cfg.get("d_minibatch_disc"):
        lines.append("- minibatch discrimination before D's score (Salimans et al.): near-copies in a batch look fake")
    if cfg.get("lambda_cluster"):
        lines.append(f"- clustering of real images (weight {cfg['lambda_cluster']}, IIC): Q's category for a real "
                     "image and for a re-styled copy must agree, be confident, and use every category equally")
    return lines


# Unsupervised by default (trains on unlabelled data); --set supervised=true or labels_per_class=N needs labels.
FAMILY = Family(name="infogan", kind=Kind.CODES, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, needs_labels=needs_labels, describe=describe)

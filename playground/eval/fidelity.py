"""FID / IS / KID / precision-recall through torch-fidelity, with honest provenance.

Feature network, in order of preference:
  * Inception-v3 (torch-fidelity's `inception-v3-compat`) when its weights file is present
    (--inception-weights PATH, or the torch hub cache);
  * otherwise the project's own classifier for the model's dataset, registered with
    `torch_fidelity.register_feature_extractor`: 128-d penultimate features for FID/KID/PRC,
    its logits for IS.
Numbers from different feature networks are different quantities: every result names its
network (and the weights' hash), the sample counts, the real split and the real-vs-real floor.
No metric maths is re-implemented here.
"""

from __future__ import annotations

import copy

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch_fidelity
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from .. import checkpoint
from ..engine.dist import Dist, from_env
from ..data import load_dataset
from ..errors import PlaygroundError
from ..contract import Kind
from ..models import LoadedModel
from ..seed import truncated_normal
from .classifier import classifier_dir, load_classifier

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
METRIC_KEYS = {"fid": ("frechet_inception_distance",), "isc": ("inception_score_mean", "inception_score_std"),
               "kid": ("kernel_inception_distance_mean", "kernel_inception_distance_std"),
               "prc": ("precision", "recall", "f_score")}
MIN_SAMPLES = 50


def cache_root() -> Path:
    return Path(os.environ.get("PLAYGROUND_CACHE", Path.home() / ".cache" / "playground")) / "fidelity"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def find_inception(explicit: str | None = None) -> Path | None:
    """The Inception weights file, if present: an explicit path, else the torch hub cache."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise PlaygroundError(f"--inception-weights {p} does not exist")
        return p
    hub = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    return hub if hub.is_file() else None


# ---- the domain feature extractor ----

class _DomainExtractor(FeatureExtractorBase):
    """Our classifier as a torch-fidelity extractor. Subclassed per dataset (DATASET set)."""
    DATASET = ""

    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)
        net, _ = load_classifier(self.DATASET)
        self.net = net.eval()
        self.channels = net.body[0].in_channels

    @staticmethod
    def get_provided_features_list():
        return ("feat", "logits_unbiased")

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits_unbiased"}.get(metric, "feat")

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, 28, 28, dtype=torch.uint8)

    def forward(self, x):
        if x.dtype != torch.uint8 or x.dim() != 4:
            raise ValueError("expected uint8 [N, C, H, W] images")
        x = x.float() / 127.5 - 1                                        # [-1, 1]
        if x.shape[1] == 3 and self.channels == 1:
            x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        feats = self.net.features(x)                                     # [N, 128]
        logits = self.net.head(feats)                                    # [N, K]
        out = {"feat": feats, "logits_unbiased": logits}
        return tuple(out[f] for f in self.features_list)


def domain_extractor_name(dataset: str) -> str:
    return f"playground-{dataset.split(':')[0]}"


def register_domain_extractor(dataset: str) -> str:
    name = domain_extractor_name(dataset)
    if name not in torch_fidelity.registry.FEATURE_EXTRACTORS_REGISTRY:
        cls = type(f"DomainExtractor_{dataset.split(':')[0]}", (_DomainExtractor,), {"DATASET": dataset})
        torch_fidelity.register_feature_extractor(name, cls)
    return name


# ---- inputs ----

class ImagesDataset(torch.utils.data.Dataset):
    """uint8 [N, C, H, W] as a torch-fidelity input (3 channels when Inception needs them)."""

    def __init__(self, images: torch.Tensor, rgb: bool = False):
        self.images = images.repeat(1, 3, 1, 1) if rgb and images.shape[1] == 1 else images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def crop_to_source(x: torch.Tensor, G: nn.Module) -> torch.Tensor:
    """Undo training-time padding (StyleGAN pads 28x28 data to 32x32): centre-crop generated
    images back to the data's own size, so they meet real images and classifiers as they are."""
    size = getattr(G, "source_resolution", x.shape[-1])
    if size >= x.shape[-1]:
        return x
    p = (x.shape[-1] - size) // 2
    return x[..., p:p + size, p:p + size]


class GeneratorAdapter(nn.Module):
    """z -> uint8 images for torch-fidelity. Conditional models cycle through the classes so a
    sample set is class-balanced (torch-fidelity 0.4's own conditional path calls the removed
    `np.int` and fails on NumPy 2). InfoGAN's uniform codes come from the normal noise via its CDF."""

    def __init__(self, G: nn.Module, rgb: bool = False, fixed_class: int | None = None, codes: bool = False):
        super().__init__()
        self.G, self.rgb, self.fixed_class, self.codes = G, rgb, fixed_class, codes
        self.offset = 0

    @torch.no_grad()
    def forward(self, z):
        G = self.G
        if self.codes:  # the codes kind: the last n_cont entries of z are U(-1, 1) codes
            z = z.clone()
            z[:, G.noise_dim:] = torch.special.ndtr(z[:, G.noise_dim:]) * 2 - 1
        c = None
        if G.num_classes:
            if self.fixed_class is not None:
                c = torch.full((len(z),), self.fixed_class, dtype=torch.long, device=z.device)
            else:
                c = (torch.arange(len(z), device=z.device) + self.offset) % G.num_classes
                self.offset += len(z)
        x = crop_to_source(G(z) if c is None else G(z, c), G)
        x = x.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
        return x.repeat(1, 3, 1, 1) if self.rgb and x.shape[1] == 1 else x


def wrap(model: LoadedModel, rgb: bool, fixed_class: int | None = None):
    """torch-fidelity moves what it is given to the GPU in place (`.cuda()`): give it a copy, so the
    cached model that other metrics and the app use stays where it is."""
    G = copy.deepcopy(model.G)
    return torch_fidelity.GenerativeModelModuleWrapper(
        GeneratorAdapter(G, rgb, fixed_class, codes=model.kind is Kind.CODES), G.z_dim, "normal", 0)


# ---- the metric call ----

def _calc(input1, input2, metrics: list[str], extractor: str, weights: str | None, n: int | None, seed: int,
          cache2: str | None, cuda: bool) -> dict:
    kwargs = dict(input1=input1, input2=input2, feature_extractor=extractor, cuda=cuda, verbose=False,
                  rng_seed=seed, save_cpu_ram=True, batch_size=500,
                  fid="fid" in metrics, isc="isc" in metrics, kid="kid" in metrics, prc="prc" in metrics)
    if weights:
        kwargs["feature_extractor_weights_path"] = weights
    if n is not None:
        kwargs["input1_model_num_samples"] = n
    if "kid" in metrics:
        n_real = len(input2)
        n_gen = n if n is not None else len(input1)
        kwargs["kid_subset_size"] = min(1000, n_gen, n_real)
    if cache2:
        kwargs.update(cache=True, cache_root=str(cache_root()), input2_cache_name=cache2)
    else:
        kwargs["cache"] = False
    try:
        return torch_fidelity.calculate_metrics(**kwargs)
    except (ValueError, RuntimeError) as e:
        raise PlaygroundError(f"torch-fidelity failed: {e}") from None


class FeatureNet:
    """Which network measures, and how to name it in every result."""

    def __init__(self, dataset: str, inception_weights: str | None = None, prefer: str = "auto"):
        path = None if prefer == "domain" else find_inception(inception_weights)
        if prefer == "inception" and path is None:
            raise PlaygroundError(
                f"Inception-v3 weights not found (looked for --inception-weights and "
                f"{Path(torch.hub.get_dir()) / 'checkpoints' / INCEPTION_FILE}); this machine cannot download "
                "them. Use the domain feature network (the default) or supply the file.")
        self.dataset = dataset
        if path is not None:
            self.name, self.weights, self.rgb = "inception-v3-compat", str(path), True
            self.label, self.sha = "inception-v3-compat (torch-fidelity)", _sha(path)
        else:
            self.name, self.weights, self.rgb = register_domain_extractor(dataset), None, False
            cdir = classifier_dir(dataset)
            self.sha = _sha(cdir / checkpoint.MODEL_FILE)
            self.label = f"playground classifier ({cdir.name}), 128-d features / logits"

    def provenance(self) -> dict:
        return {"feature_network": self.label, "weights_sha256": self.sha}

    def cache_name(self, dataset: str, split: str, extra: str = "") -> str:
        safe = dataset.replace(":", "_").replace(",", "-")
        return f"{self.name}-{self.sha[:8]}-{safe}-{split}{extra}"


def _real(dataset: str, split: str, rgb: bool, label: int | None = None) -> ImagesDataset:
    ds = load_dataset(dataset, split)
    images = ds.images if label is None else ds.images[ds.labels == label]
    return ImagesDataset(images, rgb)


def _pick(res: dict, metrics: list[str]) -> dict:
    out = {}
    for m in metrics:
        for k in METRIC_KEYS[m]:
            out[k] = round(float(res[k]), 5)
    return out


def real_floor(net: FeatureNet, dataset: str) -> dict:
    """FID between the test and train splits through the same network (cached on disk)."""
    cache = cache_root() / f"floor-{net.cache_name(dataset, 'test-vs-train')}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    test, train = _real(dataset, "test", net.rgb), _real(dataset, "train", net.rgb)
    res = _calc(test, train, ["fid"], net.name, net.weights, None, 0, net.cache_name(dataset, "train"),
                torch.cuda.is_available())
    floor = {"fid_test_vs_train": round(float(res["frechet_inception_distance"]), 5),
             "n_test": len(test), "n_train": len(train)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(floor))
    return floor


def real_sets_fid(dataset: str, drop_class: int, n_copies: int = 500) -> dict:
    """What FID sees and misses, on real images only (the classifier's features): the held-out test
    split, that split without one class, and `n_copies` training images themselves, each against
    the training split."""
    net = FeatureNet(dataset, prefer="domain")
    test, train = load_dataset(dataset, "test"), load_dataset(dataset, "train")
    copies = torch.randperm(len(train.images), generator=torch.Generator().manual_seed(0))[:n_copies]
    sets = {"held-out test set": test.images,
            f"test set without {test.class_names[drop_class]}s": test.images[test.labels != drop_class],
            f"{n_copies} copied training images": train.images[copies]}
    out = {}
    for name, images in sets.items():
        res = _calc(ImagesDataset(images, net.rgb), ImagesDataset(train.images, net.rgb), ["fid"], net.name,
                    net.weights, None, 0, net.cache_name(dataset, "train"), torch.cuda.is_available())
        out[name] = round(float(res["frechet_inception_distance"]), 3)
    return out


def real_prc_reference(net: FeatureNet, dataset: str, n: int, seed: int) -> dict:
    """Precision/recall of held-out real images (the test split, up to n) against as many training
    images drawn as the model's P/R draws them: what a perfect generator would score with the same
    k-NN balls and sample counts (cached on disk)."""
    cache = cache_root() / f"prc-{net.cache_name(dataset, f'test-vs-train-{n}-{seed}')}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    test, train = _real(dataset, "test", net.rgb), _real(dataset, "train", net.rgb)
    m = min(n, len(test))
    sub = train.images[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:m]]
    res = _pick(_calc(ImagesDataset(test.images[:m]), ImagesDataset(sub), ["prc"], net.name, net.weights, None,
                      seed, None, torch.cuda.is_available()), ["prc"])
    ref = {"precision": round(res["precision"], 4), "recall": round(res["recall"], 4), "n_test": m, "n_train": m}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(ref))
    return ref


def sharded_samples(model: LoadedModel, rgb: bool, n: int, seed: int, dist: Dist,
                    truncation: float | None = None) -> torch.Tensor:
    """n generated uint8 images, made in shards across torchrun ranks and gathered on every rank.

    z for all n samples is drawn from `seed` (on the CPU, so any device and any world size agree);
    rank r generates the contiguous slice [r*k, (r+1)*k) on its own device; one all_gather puts the
    slices back in order. One process gives exactly what N processes gather."""
    G = copy.deepcopy(model.G)
    device = torch.device("cuda", dist.local_rank) if torch.cuda.is_available() else torch.device("cpu")
    adapter = GeneratorAdapter(G.to(device), rgb, codes=model.kind is Kind.CODES)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=g) if truncation is None else truncated_normal(n, G.z_dim, truncation, g)
    k = -(-n // dist.world)                                  # ceil: every rank makes k (the last pads)
    start = dist.rank * k
    mine = z[start:start + k]
    if len(mine) < k:
        mine = torch.cat([mine, z[:k - len(mine)]])
    adapter.offset = start                                    # class cycling continues across shards
    x = torch.cat([adapter(mine[i:i + 500].to(device)) for i in range(0, k, 500)])
    if dist.active:
        parts = [torch.empty_like(x) for _ in range(dist.world)]
        torch.distributed.all_gather(parts, x)
        x = torch.cat(parts)
    return x[:n].cpu()


def fidelity_metrics(model: LoadedModel, metrics: list[str], n: int, seed: int,
                     inception_weights: str | None = None, prefer: str = "auto", shard: bool = False) -> dict:
    """Generated (n) vs the training split of the model's dataset. Samples come from torch-fidelity's
    seeded noise in one process; under torchrun (or with `shard`) from `sharded_samples`, and
    rank 0 alone measures (other ranks return None)."""
    dist = from_env(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    sharded = dist.active or shard
    dataset = model.meta.get("dataset")
    if not dataset:
        raise PlaygroundError(f"{model.name} records no dataset: there is no real data to compare with")
    if n < MIN_SAMPLES:
        raise PlaygroundError(f"n={n} is too small: FID/KID need at least {MIN_SAMPLES} samples "
                              "(KID draws subsets of up to 1000)")
    net = FeatureNet(dataset, inception_weights, prefer)
    if sharded:  # every rank generates its slice; the gathered images are the input, whatever n
        images = ImagesDataset(sharded_samples(model, net.rgb, n, seed, dist))
        if not dist.is_main:
            return None
        fake, n_fake = (lambda: images), None
    else:        # torch-fidelity draws n samples from a fresh wrapper of the model per call
        fake, n_fake = (lambda: wrap(model, net.rgb)), n
    real = _real(dataset, "train", net.rgb)
    cuda = torch.cuda.is_available()
    values = {}
    main = [m for m in metrics if m != "prc"]
    if main:
        res = _calc(fake(), real, main, net.name, net.weights, n_fake, seed, net.cache_name(dataset, "train"), cuda)
        values.update(_pick(res, main))
    out = {"values": values, "n_generated": n, "n_real": len(real), "real_split": f"{dataset}/train",
           "seed": seed, **net.provenance(), "real_vs_real_floor": real_floor(net, dataset)}
    if sharded:
        out["generated_by"] = f"{dist.world} process(es), sharded"
    if "prc" in metrics:
        # precision/recall compare k-NN balls of equally many real and generated samples
        g = torch.Generator().manual_seed(seed)
        sub = real.images[torch.randperm(len(real), generator=g)[:n]]
        out["n_real_prc"] = len(sub)
        res = _calc(fake(), ImagesDataset(sub), ["prc"], net.name, net.weights, n_fake, seed, None, cuda)
        values.update(_pick(res, ["prc"]))
        out["real_vs_real_prc"] = real_prc_reference(net, dataset, n, seed)
    return out


TRUNCATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def truncation_curve(model: LoadedModel, n: int, seed: int, inception_weights: str | None = None,
                     prefer: str = "auto") -> dict:
    """FID, IS and precision/recall of n samples at each truncation threshold (and without one):
    BigGAN's fidelity-variety trade-off, measured. Class-balanced samples, the same seed for all."""
    if "truncation" not in model.features:
        raise PlaygroundError(f"{model.name} ({model.family}) has no truncation control")
    dataset = model.meta["dataset"]
    net = FeatureNet(dataset, inception_weights, prefer)
    real = _real(dataset, "train", net.rgb)
    sub = real.images[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]]
    cuda = torch.cuda.is_available()
    curve = []
    for t in (*TRUNCATIONS, None):
        fake = ImagesDataset(sharded_samples(model, net.rgb, n, seed, Dist(), truncation=t))
        main = _pick(_calc(fake, real, ["fid", "isc"], net.name, net.weights, None, seed,
                           net.cache_name(dataset, "train"), cuda), ["fid", "isc"])
        prc = _pick(_calc(fake, ImagesDataset(sub), ["prc"], net.name, net.weights, None, seed, None, cuda), ["prc"])
        curve.append({"threshold": t, "fid": round(main["frechet_inception_distance"], 3),
                      "isc": round(main["inception_score_mean"], 3), "precision": round(prc["precision"], 4),
                      "recall": round(prc["recall"], 4)})
    best = min(curve, key=lambda r: r["fid"])
    where = "no truncation" if best["threshold"] is None else f"threshold {best['threshold']}"
    return {"value": f"best FID {best['fid']} at {where}", "curve": curve, "n_generated": n,
            "n_real": len(real), "real_split": f"{dataset}/train", "seed": seed, **net.provenance(),
            "real_vs_real_floor": real_floor(net, dataset)}


def per_class_fid(model: LoadedModel, n: int, seed: int, inception_weights: str | None = None,
                  prefer: str = "auto") -> dict:
    """FID of class-k samples against the real class-k training images, for each class."""
    if not model.num_classes:
        raise PlaygroundError(f"{model.name} is unconditional: per-class FID needs a conditional model")
    dataset = model.meta["dataset"]
    net = FeatureNet(dataset, inception_weights, prefer)
    per = max(MIN_SAMPLES, n // model.num_classes)
    out = {}
    for k in range(model.num_classes):
        real = _real(dataset, "train", net.rgb, label=k)
        res = _calc(wrap(model, net.rgb, fixed_class=k), real, ["fid"], net.name, net.weights, per, seed,
                    net.cache_name(dataset, "train", f"-class{k}"), torch.cuda.is_available())
        out[model.class_names[k]] = round(float(res["frechet_inception_distance"]), 4)
    return {"value": round(float(np.mean(list(out.values()))), 4), "per_class": out,
            "n_generated_per_class": per, "real_split": f"{dataset}/train (per class)", "seed": seed,
            **net.provenance()}

"""Measured translation for two-domain models, on held-out test images of each domain."""

from __future__ import annotations

import torch

from ..data import load_dataset
from ..images.convert import to_float
from ..errors import PlaygroundError
from ..contract import Kind
from ..models import LoadedModel
from .classifier import load_classifier, predict


@torch.no_grad()
def translation_metrics(model: LoadedModel, n: int, seed: int) -> dict:
    """Per direction: share of translations the classifier calls the target class, share of
    cycle reconstructions it calls the source class, and mean |x - F(G(x))| in [0, 1] pixel units."""
    T = model.require((Kind.TRANSLATOR,), "translation metrics").G
    cfg, dataset = model.meta["config"], model.meta["dataset"]
    base = dataset.split(":")[0]
    net, _ = load_classifier(base)
    dev = next(T.parameters()).device
    out = {}
    for direction, src, dst in (("a2b", cfg["domain_a"], cfg["domain_b"]), ("b2a", cfg["domain_b"], cfg["domain_a"])):
        ds = load_dataset(f"{base}:{src}", "test")
        idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
        x = to_float(ds.images[idx]).to(dev)
        y = torch.cat([T(x[i:i + 250], direction) for i in range(0, len(x), 250)])
        back = "b2a" if direction == "a2b" else "a2b"
        rec = torch.cat([T(y[i:i + 250], back) for i in range(0, len(y), 250)])
        names = cfg["domain_names"]
        key = f"{names[0]}->{names[1]}" if direction == "a2b" else f"{names[1]}->{names[0]}"
        out[key] = {"to_target": round((predict(net, y.cpu()) == dst).float().mean().item(), 4),
                    "cycle_to_source": round((predict(net, rec.cpu()) == src).float().mean().item(), 4),
                    "cycle_l1": round(((x - rec).abs().mean() / 2).item(), 4), "n_test_images": len(x)}
    worst = min(v["to_target"] for v in out.values())
    return {"value": worst, "value_is": "the lower to-target share of the two directions",
            "directions": out, "seed": seed, "test_split": f"{base}/test"}

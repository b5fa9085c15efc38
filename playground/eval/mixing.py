"""Does style mixing split "what" from "how"? Measured with the dataset's classifier.

For pairs (A, B) of seeds whose pure images the classifier puts in different classes, render B
with A's coarse styles and B with A's fine styles, and count how often each mix is classified as
A's class (and as B's). If coarse layers carry class/shape and fine layers texture, coarse-from-A
keeps A's class far more often than fine-from-A.
"""

from __future__ import annotations

import torch

from ..contract import Kind
from ..nn.style import layer_groups
from ..models import LoadedModel
from .classifier import load_classifier, predict
from .fidelity import crop_to_source


@torch.no_grad()
def _classify(model: LoadedModel, net, ws: torch.Tensor) -> torch.Tensor:
    G = model.G
    dev = next(G.parameters()).device
    x = torch.cat([G.synthesize(ws[i:i + 500].to(dev), "const").cpu() for i in range(0, len(ws), 500)])
    return predict(net, crop_to_source(x, G))


@torch.no_grad()
def mixing_rates(model: LoadedModel, n_pairs: int = 2000, seed: int = 0) -> dict:
    model.require((Kind.STYLE,), "the mixing metric")
    G = model.G
    net, _ = load_classifier(model.meta["dataset"])
    g = torch.Generator().manual_seed(seed)
    dev = next(G.parameters()).device
    w_a = G.map(torch.randn(n_pairs, G.z_dim, generator=g).to(dev)).cpu()
    w_b = G.map(torch.randn(n_pairs, G.z_dim, generator=g).to(dev)).cpu()
    cls_a, cls_b = _classify(model, net, G.broadcast(w_a)), _classify(model, net, G.broadcast(w_b))
    keep = cls_a != cls_b
    w_a, w_b, cls_a, cls_b = w_a[keep], w_b[keep], cls_a[keep], cls_b[keep]
    out = {"n_pairs": int(keep.sum()), "n_drawn": n_pairs, "seed": seed, "truncation": 1.0, "noise": "const",
           "pairs": "A and B drawn independently; only pairs the classifier puts in different classes"}
    for name, (lo, hi) in layer_groups(G).items():
        if lo == hi:
            continue
        ws = G.broadcast(w_b).clone()
        ws[:, lo:hi] = w_a[:, None]
        pred = _classify(model, net, ws)
        out[f"{name}_from_a"] = {"layers": [lo, hi], "keeps_a_class": round(float((pred == cls_a).float().mean()), 4),
                                 "keeps_b_class": round(float((pred == cls_b).float().mean()), 4)}
    out["value"] = out["coarse_from_a"]["keeps_a_class"]
    out["value_is"] = "share of coarse-from-A mixes classified as A's class"
    return out

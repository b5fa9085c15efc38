"""InfoGAN's disentanglement, measured: categorical code -> class accuracy, continuous code effects."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ..errors import PlaygroundError
from ..contract import Kind
from ..models import LoadedModel
from .classifier import load_classifier, predict
from .shape_stats import measures, pearson

SWEEP = (-2.0, 2.0)
# Below this |Pearson r| between a code's value and every shape measure, the slider is labelled
# "no clear effect" rather than with the strongest (but weak) measure: labels must be earned.
CLEAR_EFFECT_R = 0.3


def _check(model: LoadedModel) -> None:
    model.require((Kind.CODES,), "code metrics")
    if not model.meta.get("dataset"):
        raise PlaygroundError(f"{model.name} records no training dataset, so no classifier can judge it")


@torch.no_grad()
def code_accuracy(model: LoadedModel, n_per_code: int, seed: int) -> dict:
    """Generate per categorical value, classify, match codes to classes one-to-one (Hungarian)."""
    _check(model)
    G = model.G
    dataset = model.meta.get("dataset")
    net, cmeta = load_classifier(dataset)
    g = torch.Generator().manual_seed(seed)
    K = G.num_classes
    counts = np.zeros((K, net.head.out_features), dtype=np.int64)
    dev = next(G.parameters()).device               # inputs follow the model
    for k in range(K):
        z = G.sample_latent(n_per_code, g).to(dev)
        x = G(z, torch.full((n_per_code,), k, dtype=torch.long, device=dev))
        pred = predict(net, x).numpy()
        counts[k] = np.bincount(pred, minlength=counts.shape[1])
    rows, cols = linear_sum_assignment(-counts)
    matched = int(counts[rows, cols].sum())
    class_names = cmeta.get("class_names") or [str(i) for i in range(counts.shape[1])]
    return {"value": round(matched / counts.sum(), 4),
            "matching": {f"code {r}": class_names[c] if c < len(class_names) else str(c)
                         for r, c in zip(rows.tolist(), cols.tolist())},
            "n_generated": int(counts.sum()), "seed": seed}


def effect_label(corr: dict[str, float]) -> str:
    """The slider label for one code from its correlations with the shape measures."""
    best = max(corr, key=lambda k: abs(corr[k]))
    if abs(corr[best]) < CLEAR_EFFECT_R:
        return f"no clear effect (strongest: {best}, r={corr[best]})"
    return f"{best} ({'+' if corr[best] > 0 else '-'}, r={corr[best]})"


@torch.no_grad()
def continuous_effects(model: LoadedModel, n: int = 200, steps: int = 9, seed: int = 0) -> dict:
    """Sweep each continuous code over [-2, 2] with everything else fixed; correlate with measures."""
    _check(model)
    G = model.G
    g = torch.Generator().manual_seed(seed)
    dev = next(G.parameters()).device
    base = G.sample_latent(n, g)
    base[:, G.noise_dim:] = 0
    cat = torch.randint(0, G.num_classes, (n,), generator=g)
    values = torch.linspace(*SWEEP, steps)
    out = {}
    for i in range(G.n_cont):
        xs, vs = [], []
        for v in values:
            z = base.clone()
            z[:, G.noise_dim + i] = v
            xs.append(G(z.to(dev), cat.to(dev)).cpu())
            vs.append(torch.full((n,), float(v)))
        m = measures(torch.cat(xs))
        code = torch.cat(vs)
        corr = {k: round(pearson(code, val), 3) for k, val in m.items()}
        best = max(corr, key=lambda k: abs(corr[k]))
        lo = m[best][:n].mean().item()
        hi = m[best][-n:].mean().item()
        out[f"c{i + 1}"] = {"label": effect_label(corr),
                            "measure": best, "correlations": corr,
                            f"{best}_at_-2": round(lo, 3), f"{best}_at_+2": round(hi, 3)}
    return out

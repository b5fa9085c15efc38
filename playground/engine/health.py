"""Health signals of a GAN run, computed where the numbers already are (no extra host syncs).

Every log step the engine adds to the step's scalars (all under `health/`):

    D_acc_real, D_acc_fake   D's accuracy on this batch: real scored > 0, fake scored < 0 (logit losses)
    G_grad_ns, G_grad_minimax   mean |d loss / d logit| on fakes for the non-saturating loss
                             (1 - sigmoid) and for the minimax loss (sigmoid): when D rejects every
                             fake, the minimax one goes to 0 (the notes' vanishing gradients)
    grad_norm_<net>          the gradient norm of each optimiser's step (after DDP averaging)
    W_dist                   (already a step scalar) the critic's Earth-Mover estimate, critic losses

Every sample step, for unconditional noise-driven models on a dataset with a project classifier:

    classes, classes_real    distinct predicted classes among the fixed-seed samples, and among as
                             many real images
    diversity, diversity_real   mean pairwise distance of their classifier features
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import PlaygroundError
from ..steps import PREFIX

def mean_pairwise_distance(x: torch.Tensor) -> float:
    """How spread out a sample is: the mean distance between two of its [N, D] points."""
    n = len(x)
    return float(torch.cdist(x, x).sum() / max(n * (n - 1), 1))


class SampleDiversity:
    """Diversity of fixed-seed samples against the same number of real images, in the project
    classifier's feature space (the one evaluation uses)."""

    def __init__(self, net, real_float: torch.Tensor):
        self.net = net
        self.real = self.measure_float(real_float)

    @classmethod
    def for_dataset(cls, resources, dataset: str, real_float: torch.Tensor) -> "SampleDiversity | None":
        """None where the dataset has no project classifier (photos, uploaded folders) or the run
        was given none (`resources`: contract.Resources)."""
        try:
            net, meta = resources.classifier(dataset)
        except PlaygroundError:
            return None
        if meta["config"].get("img_channels", 1) != real_float.shape[1]:
            return None
        return cls(net, real_float)

    @torch.no_grad()
    def measure_float(self, x: torch.Tensor) -> dict[str, float]:
        x = x.detach().float().cpu()
        feats = self.net.features(x)
        classes = self.net.head(feats).argmax(1)
        return {"classes": float(len(torch.unique(classes))), "diversity": mean_pairwise_distance(feats)}

    def measure_grid_images(self, images_u8: np.ndarray) -> dict[str, float]:
        """uint8 [N, H, W, C] samples -> classes/diversity, and the real reference beside them."""
        x = torch.from_numpy(np.ascontiguousarray(images_u8)).permute(0, 3, 1, 2).float() / 127.5 - 1
        got = self.measure_float(x)
        return {f"{PREFIX}classes": got["classes"], f"{PREFIX}classes_real": self.real["classes"],
                f"{PREFIX}diversity": got["diversity"], f"{PREFIX}diversity_real": self.real["diversity"]}

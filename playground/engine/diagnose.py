"""Diagnoses in words: health signals (engine/health.py) that crossed a documented threshold for
long enough, said once per episode, with the notes' section that explains them.

    D wins        D's accuracy on fakes > 0.99 at every log step for `window` steps (default 500)
    mode collapse the fixed-seed samples cover at most 30% of the classes (modes, in the lab) that
                  as many real images cover, *and* their spread (mean pairwise distance; in the
                  classifier's feature space for images) is below half the real data's, at two
                  checks in a row, once the run is past its warm-up (1,000 steps or 10% of the run,
                  whichever is more: early samples are all alike blobs, which is not a collapse).
                  Few modes alone is not enough: a healthy run spreads out before it finds them.
    diverged      a NaN or inf in a logged loss: the run stops; the last checkpoint on disk is kept

The same words serve the 2-D lab (`collapse_of_modes`), where a mode is a ring/grid centre.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..steps import PREFIX

D_WINS_ACC = 0.99
COLLAPSE_CLASS_SHARE = 0.3
COLLAPSE_DIVERSITY_SHARE = 0.5
COLLAPSE_CHECKS = 2

# topic -> (the notes' section, a short explanation shown in the app)
EXPLANATIONS = {
    "d_wins": ("GAN (2014): vanishing gradients",
               "When D separates real from fake perfectly, the minimax loss log(1 - D(G(z))) is flat: "
               "its gradient sigmoid(logit) is ~0 for every fake, so G stops learning (with an optimal D "
               "the loss is 2·JS - 2 log 2, constant for disjoint supports). The non-saturating loss "
               "-log D(G(z)) keeps a gradient of 1 - sigmoid(logit) ~ 1 there; a slower D (lower "
               "learning rate, fewer critic steps) or a Wasserstein critic also helps."),
    "collapse": ("GAN (2014): mode collapse",
                 "G has found a few outputs that fool D and maps most of z onto them. The notes trace it to "
                 "the non-saturating loss minimising KL(p_g || p_r) - 2 JS, which punishes missing modes "
                 "little. Remedies: the Wasserstein loss with a gradient penalty, minibatch statistics in "
                 "D (ProGAN/StyleGAN's minibatch std), or a lower learning rate."),
    "diverged": ("WGAN / WGAN-GP: training stability",
                 "A loss became NaN or infinite: usually a learning rate too high for the loss, an "
                 "unbounded critic without clipping or a penalty, or an fp16 overflow. The checkpoint "
                 "saved before it is kept; resume from it with a lower learning rate."),
}


@dataclass(frozen=True)
class Diagnosis:
    topic: str          # d_wins | collapse | diverged
    step: int
    message: str

    @property
    def section(self) -> str:
        return EXPLANATIONS[self.topic][0]

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.topic][1]


def collapse_message(covered: int, total: int, unit: str = "classes", detail: str = "") -> str:
    return f"mode collapse: the samples cover {covered} of {total} {unit}" + (f" ({detail})" if detail else "")


class Diagnoser:
    """Fed the logged values of a run; returns the diagnoses that newly hold (each episode once)."""

    def __init__(self, total_steps: int, window: int = 500, warmup: int | None = None):
        self.window = window
        self.warmup = max(1000, total_steps // 10) if warmup is None else warmup
        self._d_wins_since: int | None = None
        self._collapse_checks = 0
        self._active: set[str] = set()

    def _once(self, topic: str, holds: bool, step: int, message: str) -> list[Diagnosis]:
        if not holds:
            self._active.discard(topic)
            return []
        if topic in self._active:
            return []
        self._active.add(topic)
        return [Diagnosis(topic, step, message)]

    def at_log(self, step: int, values: dict[str, float]) -> list[Diagnosis]:
        acc = values.get(f"{PREFIX}D_acc_fake")
        if acc is None or acc <= D_WINS_ACC:
            self._d_wins_since = None
            return self._once("d_wins", False, step, "")
        if self._d_wins_since is None:
            self._d_wins_since = step
        held = step - self._d_wins_since
        vanishing = values.get(f"{PREFIX}G_grad_minimax", 1.0) < 0.01
        message = (f"D wins: its accuracy on fakes has been > {D_WINS_ACC} for {held:,} steps"
                   + ("; G's gradients are vanishing" if vanishing else "")
                   + " (try the non-saturating loss, a lower D learning rate, or n_critic=1)")
        return self._once("d_wins", held >= self.window, step, message)

    def at_samples(self, step: int, values: dict[str, float]) -> list[Diagnosis]:
        """Image runs: classes and feature diversity of the fixed-seed samples (engine/health.py)."""
        if f"{PREFIX}classes" not in values:
            return []
        k, k_real = int(values[f"{PREFIX}classes"]), int(values[f"{PREFIX}classes_real"])
        div, div_real = values[f"{PREFIX}diversity"], values[f"{PREFIX}diversity_real"]
        low = k <= max(1, COLLAPSE_CLASS_SHARE * k_real) and div < COLLAPSE_DIVERSITY_SHARE * div_real
        detail = f"real images: {k_real}; feature diversity {div:.2f} vs {div_real:.2f} for real images"
        return self._collapse(step, low, collapse_message(k, k_real, detail=detail))

    def at_coverage(self, step: int, covered: int, total: int, spread: float) -> list[Diagnosis]:
        """The 2-D lab: modes of the toy distribution that the samples cover, and the samples'
        spread as a fraction of the real points' (mean pairwise distances)."""
        low = covered <= max(1, COLLAPSE_CLASS_SHARE * total) and spread < COLLAPSE_DIVERSITY_SHARE
        return self._collapse(step, low, collapse_message(covered, total, "modes",
                                                          f"their spread is {spread:.2f} of the real points'"))

    def _collapse(self, step: int, low: bool, message: str) -> list[Diagnosis]:
        if step < self.warmup:
            return []
        self._collapse_checks = self._collapse_checks + 1 if low else 0
        return self._once("collapse", self._collapse_checks >= COLLAPSE_CHECKS, step, message)


def diverged(step: int, values: dict[str, float], last_saved: int | None) -> Diagnosis:
    bad = [k for k, v in values.items() if v != v or v in (float("inf"), float("-inf"))]
    what = "NaN" if any(values[k] != values[k] for k in bad) else "inf"
    kept = f"checkpoint from step {last_saved:,} kept" if last_saved else "no checkpoint was saved before it"
    return Diagnosis("diverged", step, f"training diverged: {what} in {', '.join(bad)} at step {step:,} ({kept})")

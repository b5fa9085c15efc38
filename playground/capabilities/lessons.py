"""The Learn tab's lessons: one idea of the notes each, and one experiment that shows it happening.

A lesson is a row of `LESSONS`: its idea in a few sentences with the key formula (Markdown with
LaTeX), the claim its experiment tests, where to go further, and `run()`, which measures the idea
with this project's own code: the 2-D lab (`lab2d`), the shipped models through the same
capabilities the other tabs call, and the evaluation code (`eval/`). `run()` returns an `Outcome`:
the measured figures, a sentence built from them, whether they point the way the claim says, and
a picture (a lab frame, or an image grid). Each experiment takes seconds on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..errors import PlaygroundError
from . import lab2d


@dataclass
class Outcome:
    figures: dict[str, float]          # what was measured, by name
    verdict: str                       # one or two sentences built from the figures
    holds: bool                        # the figures point the way the lesson's claim says
    image: np.ndarray | None = None    # uint8 [H, W, C] (a grid), or None
    frames: list = field(default_factory=list)   # lab2d.Frame(s) to draw (the lab's own renderer)


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    idea: str                          # Markdown; $...$ and $$...$$ are LaTeX
    claim: str                         # what the experiment should show
    tab: str                           # the tab to go further in (its key)
    further: str                       # link query (`?tab=...`) and what to try there
    run: Callable[[], Outcome]


def _lab(loss: str, dataset: str, steps: int, seed: int = 0, **cfg) -> list:
    """A lab run's frames (the lab tab's own generator), one every tenth of the run."""
    return list(lab2d.run(lab2d.LabConfig(dataset=dataset, loss=loss, steps=steps, seed=seed,
                                          frame_every=max(steps // 10, 1), **cfg)))


def vanishing_gradients() -> Outcome:
    frames = _lab("minimax", "ring", 400, lr=2e-3)
    logged = [f for f in frames if "health/D_acc_fake" in f.scalars]
    best = max(f.scalars["health/D_acc_fake"] for f in logged)
    strong = min((f for f in logged if f.scalars["health/D_acc_fake"] >= best - 0.05),
                 key=lambda f: f.scalars["health/G_grad_minimax"])          # D at its strongest
    s = strong.scalars
    mm, ns = s["health/G_grad_minimax"], s["health/G_grad_ns"]
    return Outcome({"step": strong.step, "D accuracy on fakes": s["health/D_acc_fake"],
                    "G gradient, minimax": mm, "G gradient, non-saturating": ns},
                   f"At step {strong.step} D calls {100 * s['health/D_acc_fake']:.0f}% of the fakes fake: the "
                   f"minimax loss gives G a gradient of {mm:.3f} per fake, the non-saturating one {ns:.3f}.",
                   mm < ns, frames=[strong])


def mode_collapse() -> Outcome:
    frames = _lab("non-saturating", "grid", 1500)
    last = frames[-1]
    cov = last.coverage
    return Outcome({"modes covered": cov["modes_covered"], "modes": cov["modes_total"],
                    "samples near a mode": cov["high_quality"]},
                   f"After {last.step} steps G's samples cover {cov['modes_covered']} of the {cov['modes_total']} "
                   f"modes; {100 * cov['high_quality']:.0f}% of them sit on a mode: sharp, but not everywhere.",
                   cov["modes_covered"] < cov["modes_total"], frames=[last])


def _critic_gradient_norm(loss: str, steps: int) -> tuple[float, float, "lab2d.Frame"]:
    """A lab run's critic: mean ‖∇ₓD‖ on points between real and fake, the share of its weights at
    the clip bound, and the run's last frame."""
    ctx = lab2d.build(lab2d.LabConfig(dataset="ring", loss=loss, steps=steps))
    scalars = {}
    for _ in range(steps):
        scalars = {k: float(v) for k, v in lab2d.step(ctx).items()}
    last = lab2d.frame(ctx, scalars)
    real = torch.as_tensor(last.real[:500])
    fake = lab2d.fake_points(ctx, 500)
    t = torch.rand(500, 1, generator=torch.Generator().manual_seed(0))
    x = (t * real + (1 - t) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(ctx.nets["D"](x).sum(), x)
    weights = torch.cat([p.detach().flatten() for p in ctx.nets["D"].parameters()])
    clip = lab2d.LOSSES[loss][2]
    at_bound = float((weights.abs() >= clip * 0.999).float().mean()) if clip else 0.0
    return float(grad.norm(dim=1).mean()), at_bound, last


def lipschitz() -> Outcome:
    clip_norm, clip_bound, _ = _critic_gradient_norm("wgan (clip)", 300)
    gp_norm, _, last = _critic_gradient_norm("wgan-gp", 300)
    return Outcome({"‖∇D‖, clipping": clip_norm, "‖∇D‖, gradient penalty": gp_norm,
                    "clipped weights at ±c": clip_bound},
                   f"Between real and fake points the clipped critic's gradient norm is {clip_norm:.3f} "
                   f"({100 * clip_bound:.0f}% of its weights sit at ±c); with the penalty it is {gp_norm:.3f}.",
                   abs(gp_norm - 1) < abs(clip_norm - 1), frames=[last])


def mutual_information() -> Outcome:
    from ..eval.infogan import code_accuracy
    from ..images.convert import grid
    from ..models import load
    from .codes import code_sweep

    model = load("infogan-mnist")
    res = code_accuracy(model, 50, 0)
    chance = 1 / model.G.num_classes
    values = (-2, -1, 0, 1, 2)
    image = grid(code_sweep(model, 0, 0, values), nrow=len(values))
    return Outcome({"code accuracy": float(res["value"]), "chance": round(chance, 3)},
                   f"The categorical code picks the digit {100 * res['value']:.0f}% of the time (chance: "
                   f"{100 * chance:.0f}%), though no label was read in training: the information term made it.",
                   res["value"] > 0.5, image=image)


def progressive_growing() -> Outcome:
    from ..models import load
    from ..registry import get_family
    from ..contract import make_config
    from ..images.convert import grid
    from .growth import growth_strip

    model = load("progan-fashion")
    family = get_family("progan")
    cfg = make_config(family, base=model.meta["config"])
    steps = list(range(0, 2 * (cfg.fade_steps + cfg.stable_steps) + 1, max(cfg.fade_steps // 5, 1)))
    phases = [family.schedule(cfg, s).values for s in steps]
    alphas = [p["alpha"] for p in phases]
    resolutions = [p["resolution"] for p in phases]
    fading = [a for a, r in zip(alphas, resolutions) if r == resolutions[-1]]
    reached, strip = growth_strip(model, n=6, seed=0)
    rising = all(b >= a for a, b in zip(fading, fading[1:])) and fading[0] < 1 and fading[-1] == 1
    return Outcome({"resolutions grown": len(reached), "first resolution": reached[0],
                    "last resolution": reached[-1], "alpha at the start of a fade": fading[0],
                    "alpha at its end": fading[-1]},
                   f"G grew {' → '.join(map(str, reached))}; when {resolutions[-1]}×{resolutions[-1]} arrives α "
                   f"goes {fading[0]:.2f} → {fading[-1]:.2f} over {cfg.fade_steps} steps, then stays 1.",
                   rising, image=grid(strip, nrow=6))


def style_mixing() -> Outcome:
    from ..eval.mixing import mixing_rates
    from ..models import load
    from .style import style_mix

    model = load("stylegan-fashion")
    res = mixing_rates(model, 300, 0)
    coarse, fine = res["coarse_from_a"]["keeps_a_class"], res["fine_from_a"]["keeps_a_class"]
    return Outcome({"coarse from A: A's class": coarse, "fine from A: A's class": fine, "pairs": res["n_pairs"]},
                   f"With A's coarse styles, {100 * coarse:.0f}% of the mixes are classified as A's garment; with "
                   f"A's fine styles only {100 * fine:.0f}%: the coarse layers decide what, the fine ones how.",
                   coarse > fine, image=style_mix(model, [0, 1, 2, 3], [10, 11, 12, 13], "coarse")["grid"])


def truncation() -> Outcome:
    from ..eval.classifier import load_classifier, predict
    from ..models import load
    from .sampling import sample_with_labels

    model = load("biggan-fashion")
    net, _ = load_classifier("fashion")
    from ..images.convert import grid

    labels = [i % 10 for i in range(200)]
    out, rows = {}, []
    for t in (0.3, 2.0):
        images, _ = sample_with_labels(model, 200, 0, labels, truncation=t)
        rows.append(images[:20])
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1)[:, :1]
        with torch.no_grad():
            feats = net.features(x)
        acc = float((predict(net, x) == torch.tensor(labels)).float().mean())
        by_class = torch.tensor(labels)
        spread = [float(torch.cdist(feats[by_class == k], feats[by_class == k]).mean()) for k in range(10)]
        out[t] = (acc, float(np.mean(spread)))           # variety within a class, not between classes
    (acc_t, div_t), (acc_w, div_w) = out[0.3], out[2.0]
    return Outcome({"class accuracy, threshold 0.3": acc_t, "class accuracy, threshold 2.0": acc_w,
                    "feature spread within a class, threshold 0.3": div_t, "feature spread within a class, threshold 2.0": div_w},
                   f"Truncating z at 0.3 gives samples the classifier reads as their class {100 * acc_t:.0f}% of the "
                   f"time ({100 * acc_w:.0f}% at 2.0) but spread {div_t:.2f} apart in feature space against "
                   f"{div_w:.2f}: fidelity bought with variety.",
                   div_t < div_w, image=grid(np.concatenate(rows), nrow=10))


def cycle_consistency() -> Outcome:
    from ..data import load_dataset
    from ..models import load
    from .translation import translate

    model = load("cyclegan-sneaker-boot")
    test = load_dataset("fashion:7,9", "test")
    changed, back, rows = [], [], []
    for i in range(0, 40, 5):
        x = test.images[i].permute(1, 2, 0).numpy()[..., 0]
        res = translate(model, x, "a2b" if int(test.labels[i]) == 0 else "b2a")
        src = res["input"].astype(float)
        changed.append(np.abs(res["translated"] - src).mean() / 255)
        back.append(np.abs(res["reconstructed"] - src).mean() / 255)
        rows.append(np.concatenate([res["input"], res["translated"], res["reconstructed"]], axis=1))
    change, rec = float(np.mean(changed)), float(np.mean(back))
    return Outcome({"mean |G(x) − x|": change, "mean |F(G(x)) − x|": rec},
                   f"Translating changes a test image by {change:.3f} per pixel (on a 0-1 scale); translating it "
                   f"back lands {rec:.3f} from where it started: the cycle term keeps what the translation must not lose.",
                   rec < change, image=np.concatenate(rows[:4], axis=0))


def _high_frequency(img: np.ndarray) -> float:
    g = img.astype(float).mean(axis=2)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def perceptual_loss() -> Outcome:
    from ..data.photos import photos
    from ..models import load
    from .upscaling import check_against_ground_truth

    hr = photos("test")["camera"][:192, :192]
    figures, images = {}, []
    for name in ("srresnet-x4", "srgan-x4"):
        res = check_against_ground_truth(load(name), hr)
        figures[f"PSNR, {name} (dB)"] = round(res["metrics"]["psnr_model"], 2)
        figures[f"edge energy, {name}"] = round(_high_frequency(res["sr"]), 2)
        images.append(res["sr"])
    figures["edge energy, ground truth"] = round(_high_frequency(hr), 2)
    p_pix, p_gan = figures["PSNR, srresnet-x4 (dB)"], figures["PSNR, srgan-x4 (dB)"]
    e_pix, e_gan = figures["edge energy, srresnet-x4"], figures["edge energy, srgan-x4"]
    return Outcome(figures,
                   f"The pixel-loss SRResNet scores {p_pix:.2f} dB, SRGAN {p_gan:.2f} dB, yet SRGAN draws more edges "
                   f"({e_gan:.1f} against {e_pix:.1f}; the photo itself has {figures['edge energy, ground truth']:.1f}): "
                   "PSNR rewards the blurred average that a perceptual loss refuses.",
                   p_pix > p_gan and e_gan > e_pix, image=np.concatenate([hr, *images], axis=1))


def what_fid_sees() -> Outcome:
    from ..data import load_dataset
    from ..eval.fidelity import real_sets_fid
    from ..images.convert import grid

    res = real_sets_fid("mnist5k", drop_class=3)
    test = load_dataset("mnist5k", "test")
    rows = [test.images[::50][:10], test.images[test.labels != 3][::45][:10]]      # all digits; no 3s
    image = grid(torch.cat(rows).permute(0, 2, 3, 1).numpy(), nrow=10)
    return Outcome(res,
                   f"Held-out digits score FID {res['held-out test set']:.1f} against the training set. Drop every 3 and "
                   f"it rises to {res['test set without 3s']:.1f}: FID sees a missing class. Hand it 500 training "
                   f"images themselves and it falls to {res['500 copied training images']:.1f}: FID cannot see copying.",
                   res["test set without 3s"] > res["held-out test set"] > res["500 copied training images"],
                   image=image)


LESSONS = (
    Lesson("vanishing-gradients", "Why the minimax game's gradients vanish",
           r"""When D is optimal, G's minimax loss $\min_G \mathbb{E}_z[\log(1 - D(G(z)))]$ becomes
$2\,\mathrm{JS}(p_{data} \| p_g) - 2\log 2$. While the two distributions barely overlap the JS
divergence is stuck at $\log 2$: it does not tell G which way to move. Through D's sigmoid
$D = \sigma(\ell)$, a fake that D rejects gives G
$\frac{\partial}{\partial \ell}\log(1 - \sigma(\ell)) = -\sigma(\ell) = -D(G(z)) \approx 0$, while the
non-saturating loss $-\log D(G(z))$ gives $\frac{\partial}{\partial \ell}[-\log\sigma(\ell)] = -(1 - D(G(z))) \approx -1$.""",
           "at a strong D, minimax's gradient on fakes is smaller than the non-saturating loss's",
           "train", "?tab=train&lab_loss=minimax&lab_data=ring: the 2-D GAN lab with the minimax loss; then try non-saturating", vanishing_gradients),
    Lesson("mode-collapse", "The −log D trick and mode collapse",
           r"""The non-saturating loss keeps G's gradients alive, but what it minimises,
$\mathrm{KL}(p_g \| p_{data}) - 2\,\mathrm{JS}(p_{data} \| p_g)$, punishes a fake that lies where no
real point is far more than a real mode that no fake covers. G is pushed to be *precise* rather than
*complete*: it can settle on a few modes and draw them sharply.""",
           "after a short run on a grid of 25 modes, G covers fewer than all of them",
           "train", "?tab=train&lab_loss=non-saturating&lab_data=grid: the 2-D GAN lab on the grid; then try wgan-gp", mode_collapse),
    Lesson("lipschitz", "WGAN: why the critic must be Lipschitz",
           r"""The Wasserstein-1 distance is $W(p_{data}, p_g) = \sup_{\|f\|_L \le 1}
\mathbb{E}_{x\sim p_{data}}[f(x)] - \mathbb{E}_{x\sim p_g}[f(x)]$: the critic $f$ must be 1-Lipschitz.
Clipping every weight to $[-c, c]$ bounds it crudely (most weights end at $\pm c$, the critic becomes
simple). WGAN-GP instead adds $\lambda\,\mathbb{E}_{\hat x}[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2]$ on points
between real and fake, which holds the gradient norm near 1 there; BatchNorm would couple the samples
that this per-sample penalty treats alone, so the critic has none.""",
           "the gradient penalty keeps the critic's gradient norm nearer 1 than clipping does",
           "train", "?tab=train&family=wgan-gp&dataset=fashion&steps=500: WGAN-GP on Fashion-MNIST (or family=wgan, with clip)", lipschitz),
    Lesson("mutual-information", "InfoGAN: what the mutual-information term buys",
           r"""InfoGAN splits G's input into noise $z$ and a code $c$ and maximises a lower bound of
$I(c; G(z, c))$: $\min_{G,Q}\max_D V(D, G) - \lambda\, \mathbb{E}_{c, x \sim G(z,c)}[\log Q(c \mid x)]$.
A head $Q$ on D's features must read the code back from the image, so G has to draw each code
differently. No label is read, yet on MNIST the 10-way code comes to pick the digit.""",
           "the unsupervised categorical code matches the digit classes far above chance",
           "infogan", "?tab=infogan&model=infogan-mnist: pick a code, slide the continuous ones", mutual_information),
    Lesson("progressive-growing", "ProGAN: growing the nets, fading layers in",
           r"""G and D start at 4×4 and gain a resolution at a time. A new block is blended in:
$x = (1 - \alpha)\,\mathrm{up}(\mathrm{toRGB}_{old}(h)) + \alpha\,\mathrm{toRGB}_{new}(\mathrm{block}(h))$,
with $\alpha$ going 0 → 1 over the fade, then a stable phase. Low resolutions are learnt first,
where the game is easy, and each stage starts from the last one's weights.""",
           "α rises from below 1 to 1 during a fade, and G grew through every resolution",
           "train", "?tab=train&family=progan&dataset=fashion&steps=500: grow a ProGAN and watch α in the growth plot", progressive_growing),
    Lesson("style-mixing", "StyleGAN: styles per layer, and mixing them",
           r"""A mapping network sends $z$ to $w$, and each layer's style $y = (y_s, y_b) = A(w)$
modulates its features: $\mathrm{AdaIN}(x_i, y) = y_{s,i}\frac{x_i - \mu(x_i)}{\sigma(x_i)} + y_{b,i}$
(StyleGAN2 modulates the weights instead). Feeding source A's $w$ to some layers and B's to the rest
shows what each layer controls: coarse layers (4², 8²) the shape and kind, fine ones the texture.""",
           "A's coarse styles carry A's class more often than A's fine styles do",
           "stylemix", "?tab=stylemix&crossover=fine: A's fine styles on B; then try coarse and middle", style_mixing),
    Lesson("truncation", "BigGAN's truncation trick",
           r"""Sampling $z \sim \mathcal{N}(0, I)$ but redrawing every $|z_i| > t$ keeps G where it was
trained most: images get more typical and more faithful as $t$ shrinks, and less varied. Precision
(fidelity) rises, recall (coverage) falls; `eval --metrics truncation` draws the whole curve.""",
           "samples at a tight threshold spread less in feature space than at a loose one",
           "generate", "?tab=generate&model=biggan-fashion&truncation=0.3: move the truncation slider", truncation),
    Lesson("cycle-consistency", "CycleGAN: cycle consistency",
           r"""With unpaired data, an adversarial loss alone lets $G: X \to Y$ map every $x$ to any
plausible $y$. The cycle term ties them: $\mathcal{L}_{cyc} = \mathbb{E}_x\|F(G(x)) - x\|_1 +
\mathbb{E}_y\|G(F(y)) - y\|_1$ (weight $\lambda = 10$), so a translation must keep what is needed to
come back.""",
           "a translation changes an image much more than the round trip does",
           "translate", "?tab=translate&model=cyclegan-sneaker-boot: input → translated → reconstructed",
           cycle_consistency),
    Lesson("perceptual-loss", "SRGAN: the perceptual loss",
           r"""A pixel loss $\|G(x_{LR}) - x_{HR}\|^2$ is minimised by the average of every plausible
high-resolution image: a blur, which PSNR rewards. SRGAN compares features instead,
$\mathcal{L} = \|\phi(G(x_{LR})) - \phi(x_{HR})\|^2 + 10^{-3}\,\mathcal{L}_{adv}$, and the adversarial
term asks for texture a real photo would have, at some cost in PSNR.""",
           "SRResNet (pixel loss) scores a higher PSNR, SRGAN draws more edges",
           "superres", "?tab=superres: bicubic vs SRResNet vs SRGAN side by side", perceptual_loss),
    Lesson("what-fid-sees", "What FID can and cannot see",
           r"""FID fits a Gaussian to the features of each set and compares them:
$\mathrm{FID} = \|\mu_r - \mu_g\|^2 + \mathrm{Tr}(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2})$.
A missing class moves the mean and the covariance, so FID rises. But the features of copied
training images match the training set's perfectly: FID rewards memorisation, and says nothing about
novelty. (Here the features are the project classifier's, not Inception's.)""",
           "dropping a class raises FID; copying training images lowers it below held-out data's",
           "evaluate", "?tab=evaluate: measure any model, with the real-vs-real floor beside it", what_fid_sees),
)


def lesson_table() -> dict[str, Lesson]:
    return {lesson.name: lesson for lesson in LESSONS}


def run_lesson(name: str) -> Outcome:
    lessons = lesson_table()
    if name not in lessons:
        raise PlaygroundError(f"no lesson {name!r}; lessons: {', '.join(lessons)}")
    return lessons[name].run()

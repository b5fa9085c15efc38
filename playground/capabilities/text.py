"""The text kind (TediGAN): generate from a sentence, invert an image into W+, edit with a sentence.

- text_to_image: the sentence's Gaussian in W (text -> W), sampled with a seeded z.
- invert: the encoder's W+ for an image, refined by a short optimisation of W+ (pixels + the
  project classifier's features, a pull towards the encoder's answer), as TediGAN's
  instance-level optimisation; returns the error before and after refinement.
- edit: from a seed's w or an inverted image, change W+ on the layers the instruction concerns
  (coarse + middle for the garment's category and shape, middle + fine for shade and texture):
  shade moves along text -> W's own step between "a <class>" and "a dark/light <class>"; the rest
  is optimised to raise the matcher's image-text score while staying near the start; `strength`
  scales the change (0 = the original, 1 = the change found, 2 = twice as far).

A prompt must resemble a description of a Fashion-MNIST garment (its similarity to the nearest
known phrase is measured); nonsense gets a clear message rather than an arbitrary image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import PlaygroundError
from ..contract import Kind
from ..nn.style import layer_groups
from ..images.convert import to_uint8
from ..models import LoadedModel
from ..text import captions
from ..text.encoder import check_prompt, text_encoder
from .limits import check_n_seed

KINDS = (Kind.TEXT,)
MAX_TEXT_SAMPLES = 64
REFINE_STEPS = 60            # instance-level optimisation of an inversion
EDIT_STEPS = 40
MIN_RELEVANCE = 0.35         # cosine to the nearest known phrase; below = not about a garment
MAX_STRENGTH = 3.0
EDIT_PROXIMITY = 0.02        # weight of |delta|^2 in an edit
EDIT_LR = 0.02              # Adam step on W+ in an edit: at most about EDIT_LR x EDIT_STEPS per coordinate
KEEP_CLASS = 2.0             # attribute edits: weight of the image still matching its class
# topics edited along text -> W's own step (the mean of "a dark <class>" minus that of "a <class>")
# rather than by the matcher's guidance (why: docs/experiments.md, TediGAN)
TEXT_STEP_TOPICS = ("shade",)
TEXT_STEP_SCALE = 0.5        # strength 1 = this fraction of that step
# which style layers an instruction may change, by what it is about
EDIT_LAYERS = {"class": ("coarse", "middle"), "width": ("coarse", "middle"), "length": ("coarse", "middle"),
               "shade": ("middle", "fine"), "pattern": ("middle", "fine")}


def _G(model: LoadedModel):
    return model.require(KINDS, "text-guided generation").G


def _dev(G) -> torch.device:
    return next(G.parameters()).device


@dataclass(frozen=True)
class Meaning:
    """What a sentence is about, read off the nearest known (train) phrase: topic "describe"
    (a garment, maybe with adjectives), "class" (an instruction to become class `value`) or an
    attribute ("shade", "width", ...) with `value` the tercile asked for (0 = low, 2 = high)."""

    topic: str
    value: int
    relevance: float


@functools.lru_cache(maxsize=1)
def _prototypes() -> tuple[list[str], list[tuple[str, int]], torch.Tensor]:
    """Known phrases (train split), what each means, and their embeddings: the reference for
    relevance and for reading an instruction."""
    texts, meanings = [], []
    for label, words in enumerate(captions.CLASS_WORDS["train"]):
        for c in words:
            texts.append(captions.article(f"a {c}"))
            meanings.append(("describe", label))
            for lows, highs in captions.ADJECTIVES["train"].values():
                texts += [captions.article(f"a {adj} {c}") for adj in lows[:1] + highs[:1]]
                meanings += [("describe", label)] * 2
            for t in captions.INSTRUCTIONS["train"]["class"]:
                texts.append(captions.article(t.format(c=c)))
                meanings.append(("class", label))
    for attr, (lows, highs) in captions.COMPARATIVES["train"].items():
        adjectives = captions.ADJECTIVES["train"][attr]      # "make it darker" and "make it dark" alike
        for tier, words in ((0, lows + adjectives[0]), (2, highs + adjectives[1])):
            for m in words:
                for t in captions.INSTRUCTIONS["train"]["attr"]:
                    texts.append(t.format(m=m))
                    meanings.append((attr, tier))
    return texts, meanings, text_encoder().encode(texts)


def read(e: torch.Tensor) -> list[Meaning]:
    """Meanings of sentence embeddings e [N, D] (nearest known phrase)."""
    _, meanings, protos = _prototypes()
    sims = e.cpu() @ protos.T                                          # [N, P]
    best = sims.max(1)
    return [Meaning(*meanings[int(i)], float(v)) for v, i in zip(best.values, best.indices)]


def embed(text: str, what: str = "prompt") -> tuple[torch.Tensor, Meaning]:
    """(embedding [1, D], its meaning); refuses what is not about a garment."""
    text = check_prompt(text, what)
    e = text_encoder().encode([text])
    meaning = read(e)[0]
    if meaning.relevance < MIN_RELEVANCE:
        raise PlaygroundError(f"the {what} {text!r} does not look like a description of a garment "
                              f"(similarity {meaning.relevance:.2f} to the nearest known phrase); try e.g. "
                              "'a dark ankle boot' or 'make it lighter'")
    return e, meaning


def _scores(G, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    return G.match(x) @ e.to(x.device).T                               # [N, n_text] cosines


@torch.no_grad()
def text_to_image(model: LoadedModel, prompt: str, n: int = 16, seed: int = 0,
                  truncation: float | None = None) -> dict:
    """{"images": uint8 [n, H, W, C], "score": mean image-text cosine, "relevance", "prompt"};
    the same (prompt, n, seed, truncation) always gives the same images."""
    G = _G(model)
    check_n_seed(n, seed)
    if n > MAX_TEXT_SAMPLES:
        raise PlaygroundError(f"n must be at most {MAX_TEXT_SAMPLES} for text prompts, got {n}")
    t = model.meta["config"].get("truncation", 0.7) if truncation is None else float(truncation)
    if not 0 <= t <= 2 or not math.isfinite(t):
        raise PlaygroundError(f"truncation must be between 0 and 2, got {truncation}")
    e, meaning = embed(prompt)
    relevance = meaning.relevance
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(int(seed))).to(_dev(G))
    x = G(z, e.to(_dev(G)).expand(n, -1), t)
    return {"images": to_uint8(x).numpy(), "score": float(_scores(G, x, e).mean()),
            "relevance": relevance, "prompt": " ".join(prompt.split())}


def image_tensor(model: LoadedModel, image) -> tuple[torch.Tensor, list[str]]:
    """Any image (path, bytes, PIL, uint8 array) as the model's input [1, C, R, R] in [-1, 1]:
    resized to the data's size (28) on a dark background, then padded as the training data was."""
    from ..images.reading import open_image, to_model_input

    G = _G(model)
    src = G.source_resolution
    arr, steps = to_model_input(open_image(image), src, G.img_channels, dark_background=True)
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1)[None].float().div(127.5).sub(1)
    p = (G.img_resolution - src) // 2
    if p:
        x = F.pad(x, (p, G.img_resolution - src - p, p, G.img_resolution - src - p), value=-1.0)
        steps.append(f"padded {src}x{src} to {G.img_resolution}x{G.img_resolution} with black, as the training data")
    return x.to(_dev(G)), steps


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2)."""
    mse = float(F.mse_loss(a.float(), b.float()))
    return float("inf") if mse == 0 else 10 * math.log10(4 / mse)


def refine(G, classifier, x: torch.Tensor, ws0: torch.Tensor, steps: int) -> torch.Tensor:
    """Instance-level optimisation of W+ for images x [N, C, R, R], from the encoder's ws0."""
    ws = ws0.clone().requires_grad_(True)
    opt = torch.optim.Adam([ws], lr=0.02)
    with torch.enable_grad():
        target = classifier.features(x).detach()
        for _ in range(steps):
            rec = G.synthesize(ws)
            loss = (F.mse_loss(rec, x)
                    + 0.1 * (1 - F.cosine_similarity(classifier.features(rec), target, dim=1)).mean()
                    + 1e-3 * F.mse_loss(ws, ws0))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return ws.detach()


@functools.lru_cache(maxsize=2)
def _classifier(device: str):
    from ..eval.classifier import load_classifier

    return load_classifier("fashion", device)[0]


def invert_tensor(model: LoadedModel, x: torch.Tensor, steps: int = REFINE_STEPS) -> dict:
    G = _G(model)
    with torch.no_grad():
        ws0 = G.invert(x)
        rec0 = G.synthesize(ws0)
    ws = refine(G, _classifier(str(_dev(G))), x, ws0, steps) if steps else ws0
    with torch.no_grad():
        rec = G.synthesize(ws)
    return {"ws": ws, "reconstruction": rec, "encoder_reconstruction": rec0}


def invert(model: LoadedModel, image, steps: int = REFINE_STEPS) -> dict:
    """{"w": float32 [num_ws, w_dim], "input", "reconstruction", "encoder_only": uint8 [H, W, C],
    "psnr" / "psnr_encoder" (dB), "mse" / "mse_encoder", "conversions"}."""
    if not 0 <= int(steps) <= 500:
        raise PlaygroundError(f"refinement steps must be between 0 and 500, got {steps}")
    x, conversions = image_tensor(model, image)
    out = invert_tensor(model, x, int(steps))
    rec, rec0 = out["reconstruction"], out["encoder_reconstruction"]
    return {"w": out["ws"][0].float().cpu().numpy(), "input": to_uint8(x).numpy()[0],
            "reconstruction": to_uint8(rec).numpy()[0], "encoder_only": to_uint8(rec0).numpy()[0],
            "psnr": psnr(rec, x), "psnr_encoder": psnr(rec0, x),
            "mse": float(F.mse_loss(rec, x)), "mse_encoder": float(F.mse_loss(rec0, x)),
            "conversions": conversions or ["none: the image already matched"]}


def seed_ws(model: LoadedModel, seed: int, truncation: float = 0.7) -> torch.Tensor:
    """The W+ of a seed's StyleGAN sample (the same w on every layer), truncated towards w_avg."""
    G = _G(model)
    check_n_seed(1, seed)
    z = torch.randn(1, G.style.z_dim, generator=torch.Generator().manual_seed(int(seed))).to(_dev(G))
    with torch.no_grad():
        return G.style.broadcast(G.style.map(z, truncation))


@torch.no_grad()
def seed_image(model: LoadedModel, seed: int) -> np.ndarray:
    """The image a seed starts an edit from: uint8 [H, W, C]."""
    return to_uint8(_G(model).synthesize(seed_ws(model, seed))).numpy()[0]


def _class_prompt(label: int) -> str:
    return captions.article(f"a photo of a {captions.CLASS_WORDS['train'][label][0]}")


def recognise(G, x: torch.Tensor) -> torch.Tensor:
    """The matcher's own zero-shot class of images x (the class prompt it scores highest): [N]."""
    prompts = text_encoder().encode([_class_prompt(k) for k in range(len(captions.CLASS_WORDS["train"]))])
    with torch.no_grad():
        return (G.match(x) @ prompts.to(x.device).T).argmax(1)


@dataclass
class EditPlan:
    """Per image: the layers to change, and the matcher-space direction to move along (from the
    source description to the target one), plus the description to stay close to."""

    mask: torch.Tensor      # [N, num_ws, 1]
    direction: torch.Tensor  # [N, D] unit vectors: e(target) - e(source)
    keep: torch.Tensor       # [N, D] e(what must stay: the class, for attribute edits)
    keep_weight: torch.Tensor  # [N, 1]
    text_step: torch.Tensor  # [N, w_dim] text -> W's mean of the target minus that of the source
    meanings: list

    def rows(self, keep: torch.Tensor) -> "EditPlan":
        """The plan for the images where the boolean [N] `keep` is true."""
        return EditPlan(self.mask[keep], self.direction[keep], self.keep[keep], self.keep_weight[keep],
                        self.text_step[keep], [m for m, k in zip(self.meanings, keep.tolist()) if k])


def plan_edits(G, ws0: torch.Tensor, e: torch.Tensor) -> EditPlan:
    """Read each instruction (its nearest known phrase: an attribute and a direction, or a class)
    and the matcher's class of each start image; the target is "a <adjective> <that class>" (or
    "a <new class>"), the source "a <that class>": StyleGAN-NADA's directional objective in the
    matcher's space, which moves only what the instruction names."""
    meanings = read(e)
    with torch.no_grad():
        k0 = recognise(G, G.synthesize(ws0)).tolist()
    groups = layer_groups(G.style)
    mask = torch.zeros(len(ws0), G.num_ws, 1, device=ws0.device)
    targets, sources, keeps, weights = [], [], [], []
    for i, (m, k) in enumerate(zip(meanings, k0)):
        topic = "class" if m.topic in ("class", "describe") else m.topic
        for name in EDIT_LAYERS[topic]:
            mask[i, slice(*groups[name])] = 1
        source = _class_prompt(k)
        if topic == "class":
            target = _class_prompt(m.value)
        else:
            adj = captions.ADJECTIVES["train"][topic][m.value // 2][0]
            target = captions.article(f"a photo of a {adj} {captions.CLASS_WORDS['train'][k][0]}")
        targets.append(target)
        sources.append(source)
        keeps.append(source)
        weights.append(0.0 if topic == "class" else KEEP_CLASS)
    dev = ws0.device
    t, src = text_encoder().encode(targets).to(dev), text_encoder().encode(sources).to(dev)
    with torch.no_grad():
        step = G.text_gaussian(t)[0] - G.text_gaussian(src)[0]
    return EditPlan(mask, F.normalize(t - src, dim=1), src, torch.tensor(weights, device=dev)[:, None], step, meanings)


def edit_ws(G, ws0: torch.Tensor, e: torch.Tensor, steps: int = EDIT_STEPS) -> tuple[torch.Tensor, EditPlan]:
    """The change of W+ (zero outside each plan's layers) for instructions e [N, D]: text -> W's
    step for TEXT_STEP_TOPICS, else optimised so that the matcher's image change points along the
    text change, the image is still its class (attribute edits), the instruction itself scores
    higher, and W+ stays near."""
    e = e.to(ws0.device)
    plan = plan_edits(G, ws0, e)
    delta = TEXT_STEP_SCALE * plan.text_step[:, None, :] * plan.mask
    guided = torch.tensor([m.topic not in TEXT_STEP_TOPICS for m in plan.meanings], device=ws0.device)
    if guided.any():    # only these rows pay for the optimisation
        delta[guided] = matcher_guided(G, ws0[guided], e[guided], plan.rows(guided), steps)
    return delta, plan


def matcher_guided(G, ws0: torch.Tensor, e: torch.Tensor, plan: EditPlan, steps: int) -> torch.Tensor:
    """StyleGAN-NADA-style optimisation of the masked change of W+ in the matcher's space."""
    delta = torch.zeros_like(ws0, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=EDIT_LR)
    with torch.no_grad():
        m0 = G.match(G.synthesize(ws0))
    with torch.enable_grad():
        for _ in range(steps):
            m = G.match(G.synthesize(ws0 + delta * plan.mask))
            along = ((m - m0) * plan.direction).sum(1)    # a projection: a cosine of (m - m0) is singular at the start
            loss = (-along - (m * e).sum(1) - plan.keep_weight[:, 0] * (m * plan.keep).sum(1)).mean() \
                + EDIT_PROXIMITY * (delta * plan.mask).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return (delta * plan.mask).detach()


def source_ws(model: LoadedModel, source) -> tuple[torch.Tensor, dict]:
    """A seed (int) or an image: its W+ and what the source was."""
    if isinstance(source, (int, np.integer)) and not isinstance(source, bool):
        return seed_ws(model, int(source)), {"source": f"seed {int(source)}"}
    x, conversions = image_tensor(model, source)
    out = invert_tensor(model, x)
    return out["ws"], {"source": "your image", "psnr": psnr(out["reconstruction"], x),
                       "conversions": conversions or ["none: the image already matched"]}


def edit(model: LoadedModel, source, instruction: str, strength: float = 1.0) -> dict:
    """{"before", "after": uint8 [H, W, C], "strength", "topic", "layers", "score_before",
    "score_after", "attributes_before" / "attributes_after", "class_before" / "class_after"}."""
    G = _G(model)
    try:
        strength = float(strength)
    except (TypeError, ValueError):
        raise PlaygroundError(f"strength must be a number, got {strength!r}") from None
    if not 0 <= strength <= MAX_STRENGTH or not math.isfinite(strength):
        raise PlaygroundError(f"strength must be between 0 and {MAX_STRENGTH}, got {strength}")
    e, meaning = embed(instruction, "instruction")
    ws0, info = source_ws(model, source)
    delta, plan = edit_ws(G, ws0, e)
    with torch.no_grad():
        before, after = G.synthesize(ws0), G.synthesize(ws0 + strength * delta)
        scores = _scores(G, torch.cat([before, after]), e)[:, 0]
        classifier = _classifier(str(_dev(G)))
        cls = classifier(torch.cat([before, after])).argmax(1).tolist()
        attrs = captions.measure(torch.cat([before, after]))
    names = [w[0] for w in captions.CLASS_WORDS["train"]]
    topic = meaning.topic if meaning.topic != "describe" else "class"
    return {"before": to_uint8(before).numpy()[0], "after": to_uint8(after).numpy()[0], "strength": strength,
            "topic": topic, "layers": [i for i in range(G.num_ws) if plan.mask[0, i, 0] > 0],
            "relevance": meaning.relevance, "score_before": float(scores[0]), "score_after": float(scores[1]),
            "attributes_before": {a: float(v[0]) for a, v in attrs.items()},
            "attributes_after": {a: float(v[1]) for a, v in attrs.items()},
            "class_before": names[cls[0]], "class_after": names[cls[1]], **info}

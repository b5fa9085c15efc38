"""Captions for Fashion-MNIST images, written from what is known about each one: its label (or
the project classifier's prediction, for generated images) and four attributes measured on its
pixels. Each attribute is put into a tercile within the image's class (cut points measured on the
training set), so "dark" means darker than most of that class; the middle tercile says nothing.

Every word and template comes in two sets: TRAIN phrasings, which training sees, and HELD_OUT
phrasings and synonyms, which no training step sees; every figure on the card is measured on the
held-out ones. Instructions ("make it darker", "turn it into a sandal") are captions too: an image
in the dark tercile is what "make it darker" asks for, which is what the image-text matcher learns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

# the dataset the words are written for, and its classes in label order
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# names a person might use for each class; the train lists are long on purpose: text -> W and the
# matcher generalise to an unseen synonym from the spread of names they saw, not from two or three
CLASS_WORDS = {
    "train": [["t-shirt", "top", "tee", "tank top", "polo top", "sleeveless top"],
              ["pair of trousers", "trousers", "pants", "chinos", "leggings", "joggers"],
              ["pullover", "sweater", "cardigan", "sweatshirt", "hoodie"],
              ["dress", "gown", "evening dress", "maxi dress", "cocktail dress"],
              ["coat", "jacket", "parka", "raincoat", "blazer"],
              ["sandal", "open shoe", "heeled sandal", "slingback", "gladiator sandal"],
              ["shirt", "button-up shirt", "work shirt", "flannel shirt", "oxford shirt"],
              ["sneaker", "running shoe", "tennis shoe", "athletic shoe", "gym shoe"],
              ["bag", "handbag", "shoulder bag", "satchel", "clutch"],
              ["ankle boot", "boot", "hiking boot", "combat boot", "leather boot"]],
    "held_out": [["tshirt", "short-sleeved top"], ["slacks", "jeans"], ["jumper", "knitted sweater"],
                 ["frock", "summer dress"], ["overcoat", "winter jacket"], ["strappy sandal", "flip-flop"],
                 ["blouse", "collared shirt"], ["trainer", "sports shoe"], ["purse", "tote"],
                 ["bootie", "chelsea boot"]],
}

# attribute -> (low word sets, high word sets): adjectives, then comparatives for instructions
ATTRIBUTES = ("shade", "width", "length", "pattern")
ADJECTIVES = {
    "train": {"shade": (["dark", "black", "dim"], ["light", "pale", "bright"]),
              "width": (["narrow", "slim", "thin"], ["wide", "broad", "loose"]),
              "length": (["short", "low"], ["long", "tall"]),
              "pattern": (["plain", "smooth", "simple"], ["patterned", "textured", "printed"])},
    "held_out": {"shade": (["shadowy", "charcoal"], ["whitish", "light-toned"]),
                 "width": (["skinny", "slender"], ["roomy", "baggy"]),
                 "length": (["cropped", "stubby"], ["lengthy", "elongated"]),
                 "pattern": (["solid", "unadorned"], ["decorated", "detailed"])},
}
COMPARATIVES = {
    "train": {"shade": (["darker", "dimmer", "deeper"], ["lighter", "paler", "whiter"]),
              "width": (["narrower", "slimmer", "tighter"], ["wider", "broader", "fuller"]),
              "length": (["shorter", "lower"], ["longer", "taller"]),
              "pattern": (["plainer", "smoother"], ["more patterned", "more textured"])},
    "held_out": {"shade": (["blacker", "more dark"], ["brighter", "more light"]),
                 "width": (["thinner", "skinnier"], ["looser", "baggier"]),
                 "length": (["stubbier", "more cropped"], ["lengthier", "more long"]),
                 "pattern": (["simpler", "more solid"], ["more decorated", "busier"])},
}
TEMPLATES = {   # {a}: adjectives (may be empty), {c}: the class word
    "train": ["a {a} {c}", "a photo of a {a} {c}", "{a} {c}", "an image of a {a} {c}", "this is a {a} {c}"],
    "held_out": ["a picture showing a {a} {c}", "there is a {a} {c} here"],
}
INSTRUCTIONS = {  # {m}: a comparative; {c}: a class word
    "train": {"attr": ["make it {m}", "{m} please", "i want it {m}"], "class": ["turn it into a {c}", "make it a {c}"]},
    "held_out": {"attr": ["could you make it {m}", "change it to be {m}"],
                 "class": ["change it into a {c}", "transform it to a {c}"]},
}
SPLITS = ("train", "held_out")


def article(text: str) -> str:
    """'a ankle boot' -> 'an ankle boot'; also tidies double spaces left by an empty slot."""
    words = text.split()
    out = []
    for i, w in enumerate(words):
        if w == "a" and i + 1 < len(words) and words[i + 1][0] in "aeiou":
            w = "an"
        out.append(w)
    return " ".join(out)


@dataclass(frozen=True)
class Caption:
    text: str
    label: int                       # the class the caption names (-1: none)
    attrs: tuple[tuple[str, int], ...]   # (attribute, tercile 0 | 2) pairs it states


def measure(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Attributes of images x [N, 1, H, W] in [-1, 1] (garment light on black), each [N]:
    shade = mean brightness of the garment's pixels; width / length = the garment's bounding box
    as a fraction of the image; pattern = mean absolute difference between neighbouring garment pixels."""
    v = (x[:, 0].float() + 1) / 2                                  # [N, H, W] in [0, 1]
    mask = v > 0.1
    area = mask.sum((1, 2)).clamp_min(1)
    shade = (v * mask).sum((1, 2)) / area
    cols, rows = mask.any(1), mask.any(2)                          # [N, W], [N, H]
    width = cols.float().sum(1) / v.shape[2]
    length = rows.float().sum(1) / v.shape[1]
    inner = mask[:, :, 1:] & mask[:, :, :-1]
    dx = (v[:, :, 1:] - v[:, :, :-1]).abs() * inner
    pattern = dx.sum((1, 2)) / inner.sum((1, 2)).clamp_min(1)
    return {"shade": shade, "width": width, "length": length, "pattern": pattern}


def tercile_cuts(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict[str, list[float]]:
    """Per class, the 1/3 and 2/3 quantiles of each attribute: {attr: [lo_0, hi_0, lo_1, hi_1, ...]}."""
    m = measure(x)
    cuts = {}
    for a in ATTRIBUTES:
        row = []
        for k in range(num_classes):
            vals = m[a][labels == k]
            q = torch.quantile(vals, torch.tensor([1 / 3, 2 / 3])) if len(vals) else torch.tensor([0.0, 0.0])
            row += [float(q[0]), float(q[1])]
        cuts[a] = row
    return cuts


def terciles(x: torch.Tensor, labels: torch.Tensor, cuts: dict[str, list[float]]) -> dict[str, torch.Tensor]:
    """{attr: [N] in {0, 1, 2}}: below, between or above the class's cut points."""
    m = measure(x)
    out = {}
    for a in ATTRIBUTES:
        c = torch.tensor(cuts[a], device=x.device).view(-1, 2)[labels.to(x.device)]     # [N, 2]
        out[a] = (m[a] > c[:, 0]).long() + (m[a] > c[:, 1]).long()
    return out


def describe(label: int, tiers: dict[str, int], rng: random.Random, split: str = "train",
             instruction_prob: float = 0.2) -> Caption:
    """One caption for an image with `label` and attribute terciles `tiers`: a description naming
    the class and up to two of its extreme attributes, or (sometimes) an instruction it satisfies."""
    extremes = [(a, t) for a, t in tiers.items() if t != 1]
    rng.shuffle(extremes)
    if extremes and rng.random() < instruction_prob:
        a, t = extremes[0]
        word = rng.choice(COMPARATIVES[split][a][t // 2])
        return Caption(rng.choice(INSTRUCTIONS[split]["attr"]).format(m=word), -1, ((a, t),))
    if rng.random() < instruction_prob / 2:
        c = rng.choice(CLASS_WORDS[split][label])
        return Caption(article(rng.choice(INSTRUCTIONS[split]["class"]).format(c=c)), label, ())
    said = extremes[:rng.choice((0, 1, 1, 2))]
    adj = " ".join(rng.choice(ADJECTIVES[split][a][t // 2]) for a, t in said)
    text = rng.choice(TEMPLATES[split]).format(a=adj, c=rng.choice(CLASS_WORDS[split][label]))
    return Caption(article(text), label, tuple(said))


def class_phrase(label: int, rng: random.Random, split: str = "held_out") -> tuple[str, str]:
    """A prompt naming only the class, as the class-accuracy measurement uses, and its class word."""
    template, word = rng.choice(TEMPLATES[split]), rng.choice(CLASS_WORDS[split][label])
    return article(template.format(a="", c=word)), word


def attribute_instruction(attr: str, high: bool, rng: random.Random, split: str = "held_out") -> str:
    word = rng.choice(COMPARATIVES[split][attr][int(high)])
    return rng.choice(INSTRUCTIONS[split]["attr"]).format(m=word)


def class_instruction(label: int, rng: random.Random, split: str = "held_out") -> str:
    return article(rng.choice(INSTRUCTIONS[split]["class"]).format(c=rng.choice(CLASS_WORDS[split][label])))


def matches(captions: list[Caption], labels: torch.Tensor, tiers: dict[str, torch.Tensor]) -> torch.Tensor:
    """[len(captions), N] bool: image j fits caption i (its class, and every attribute it states).
    The contrastive loss treats all fitting images as positives, not only the one it was written for."""
    out = torch.ones(len(captions), len(labels), dtype=torch.bool, device=labels.device)
    for i, cap in enumerate(captions):
        if cap.label >= 0:
            out[i] &= labels == cap.label
        for a, t in cap.attrs:
            out[i] &= tiers[a] == t
    return out


def vocabulary(split: str = "train") -> list[str]:
    """Every phrase of one split's kind 'a <class>' and 'a <adjective> <class>': the prototypes a
    prompt is compared with to tell a description of a garment from nonsense."""
    out = []
    for words in CLASS_WORDS[split]:
        for c in words:
            out.append(article(f"a {c}"))
            for lows, highs in ADJECTIVES[split].values():
                out += [article(f"a {adj} {c}") for adj in lows[:1] + highs[:1]]
    return out

"""`eval NAME --metrics text`: what a text-guided model does, measured on HELD-OUT phrasings only
(templates, class synonyms and comparatives that no training step saw; text/captions.py).

- class accuracy: images generated from class-only prompts, labelled by the project classifier;
- attribute edits: for each seed, "make it darker/lighter/wider/narrower/longer/shorter" in
  held-out words; an edit succeeds when the measured attribute moves the asked way, and keeps the
  class when the classifier's label is unchanged; class edits ("change it into a sandal") succeed
  when the classifier then says that class;
- inversion: held-out Fashion-MNIST test images through the encoder and the refinement; class
  kept = the classifier labels the reconstruction as it labels the original; PSNR in dB.
"""

from __future__ import annotations

import random

import torch

from ..models import LoadedModel
from ..text import captions
from ..text.encoder import text_encoder
from . import text

EDIT_ATTRIBUTES = ("shade", "width", "length")


def _encode(prompts: list[str], device) -> torch.Tensor:
    return text_encoder().encode(prompts).to(device)


@torch.no_grad()
def class_accuracy(model: LoadedModel, n_per_class: int, seed: int) -> dict:
    G = text._G(model)
    dev, C = text._dev(G), text._classifier(str(text._dev(G)))
    rng, g = random.Random(seed), torch.Generator().manual_seed(seed)
    t = model.meta["config"].get("truncation", 0.7)
    per_class, per_word, correct = {}, {}, 0
    K = len(captions.CLASS_WORDS["held_out"])
    for k in range(K):
        prompts, words = zip(*[captions.class_phrase(k, rng, "held_out") for _ in range(n_per_class)])
        z = torch.randn(n_per_class, G.z_dim, generator=g).to(dev)
        hit = (C(G(z, _encode(list(prompts), dev), t)).argmax(1) == k).tolist()
        per_class[captions.CLASS_WORDS["train"][k][0]] = round(sum(hit) / n_per_class, 4)
        for word in captions.CLASS_WORDS["held_out"][k]:
            mine = [h for h, w in zip(hit, words) if w == word]
            per_word[word] = round(sum(mine) / len(mine), 4) if mine else None
        correct += sum(hit)
    return {"value": round(correct / (K * n_per_class), 4), "per_class": per_class,
            "per_held_out_word": per_word, "n_generated": K * n_per_class, "truncation": t}


def edit_rates(model: LoadedModel, n_seeds: int, seed: int, split: str = "held_out") -> dict:
    G = text._G(model)
    dev, C = text._dev(G), text._classifier(str(text._dev(G)))
    rng = random.Random(seed)
    ws0 = torch.cat([text.seed_ws(model, s) for s in range(seed, seed + n_seeds)])
    with torch.no_grad():
        x0 = G.synthesize(ws0)
        cls0, m0 = C(x0).argmax(1), captions.measure(x0)
    frame = G.source_resolution / G.img_resolution      # a garment as wide / long as the data's frame
    per, moved, kept, total, roomy, moved_roomy = {}, 0, 0, 0, 0, 0
    for attr in EDIT_ATTRIBUTES:
        for high in (False, True):
            prompts = [captions.attribute_instruction(attr, high, rng, split) for _ in range(n_seeds)]
            delta, plan = text.edit_ws(G, ws0, _encode(prompts, dev))
            read_right = sum(m.topic == attr and m.value == (2 if high else 0) for m in plan.meanings)
            with torch.no_grad():
                x1 = G.synthesize(ws0 + delta)
                cls1, m1 = C(x1).argmax(1), captions.measure(x1)
            change = m1[attr] - m0[attr]
            ok = (change > 0) if high else (change < 0)
            same = cls1 == cls0
            # a start that already fills the data's frame (Fashion-MNIST scales every garment to fill
            # 28 pixels one way) gets wider or longer only by drawing into the padding, where no
            # training image has a pixel: "with_room" is the share of starts inside the frame that way
            room = m0[attr] < frame - 1e-6 if high and attr in ("width", "length") else torch.ones_like(ok)
            key = f"{attr}-{'up' if high else 'down'}"
            per[key] = {"moved": round(float(ok.float().mean()), 4), "class_kept": round(float(same.float().mean()), 4),
                        "mean_change": round(float(change.mean()), 4), "example": prompts[0],
                        "instruction_read_right": round(read_right / n_seeds, 4),
                        "with_room": round(float(room.float().mean()), 4),
                        "moved_where_room": round(float(ok[room].float().mean()), 4) if room.any() else None}
            moved, kept, total = moved + int(ok.sum()), kept + int(same.sum()), total + n_seeds
            roomy, moved_roomy = roomy + int(room.sum()), moved_roomy + int(ok[room].sum())
    classes = {}
    for k in range(len(captions.CLASS_WORDS["held_out"])):
        prompts = [captions.class_instruction(k, rng, split) for _ in range(n_seeds)]
        delta, _ = text.edit_ws(G, ws0, _encode(prompts, dev))
        with torch.no_grad():
            classes[captions.CLASS_WORDS["train"][k][0]] = round(float((C(G.synthesize(ws0 + delta)).argmax(1) == k).float().mean()), 4)
    return {"value": round(moved / total, 4), "class_kept": round(kept / total, 4), "per_edit": per,
            "moved_where_room": round(moved_roomy / roomy, 4), "with_room": round(roomy / total, 4),
            "class_edits": classes, "class_edit_success": round(sum(classes.values()) / len(classes), 4),
            "n_seeds": n_seeds, "edits": total, "strength": 1.0}


def inversion_quality(model: LoadedModel, n: int, seed: int) -> dict:
    from ..data import load_dataset

    G = text._G(model)
    dev, C = text._dev(G), text._classifier(str(text._dev(G)))
    ds = load_dataset("fashion", "test").pad_to(G.img_resolution)
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    x = ds.images[idx].float().div(127.5).sub(1).to(dev)
    out = text.invert_tensor(model, x)
    with torch.no_grad():
        p_x, p_rec, p_enc = C(x).argmax(1), C(out["reconstruction"]).argmax(1), C(out["encoder_reconstruction"]).argmax(1)
    psnrs = [text.psnr(out["reconstruction"][i], x[i]) for i in range(n)]
    psnr_enc = [text.psnr(out["encoder_reconstruction"][i], x[i]) for i in range(n)]
    return {"value": round(float((p_rec == p_x).float().mean()), 4),
            "class_kept_encoder_only": round(float((p_enc == p_x).float().mean()), 4),
            "reconstruction_labelled_true_class": round(float((p_rec == ds.labels[idx].to(dev)).float().mean()), 4),
            "psnr_db": round(sum(psnrs) / n, 2), "psnr_db_encoder_only": round(sum(psnr_enc) / n, 2),
            "refine_steps": text.REFINE_STEPS, "n_images": n, "split": "fashion/test"}


def measure(model: LoadedModel, seed: int = 0, n_per_class: int = 100, n_edit_seeds: int = 50,
            n_invert: int = 200, train_phrasings: bool = True) -> dict:
    """Three entries for the card: text-class-acc, text-edits, inversion. `train_phrasings` adds the
    edits' comparison in train phrasings (a second edit run, a quarter of the time; not a headline)."""
    edits = {**edit_rates(model, n_edit_seeds, seed), "phrasings": "held-out", "seed": seed}
    if train_phrasings:
        edits["with_train_phrasings"] = _brief(edit_rates(model, n_edit_seeds, seed, "train"))
    return {"text-class-acc": {**class_accuracy(model, n_per_class, seed), "phrasings": "held-out", "seed": seed},
            "text-edits": edits, "inversion": {**inversion_quality(model, n_invert, seed), "seed": seed}}


def _brief(rates: dict) -> dict:
    """The headline numbers of an edit measurement (for the train-phrasing comparison)."""
    return {k: rates[k] for k in ("value", "moved_where_room", "class_kept", "class_edit_success")} | {
        "instruction_read_right": round(sum(v["instruction_read_right"] for v in rates["per_edit"].values())
                                        / len(rates["per_edit"]), 4)}

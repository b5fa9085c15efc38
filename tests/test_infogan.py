import numpy as np
import pytest
import torch

from playground import api
from playground.families import infogan
from playground.cli import main
from playground.api import TrainSpec, train
from playground.errors import PlaygroundError
from playground.nn.minibatch import MinibatchDiscrimination
from playground.eval.shape_stats import measures, pearson

from test_families import make_ctx


def test_q_head_shapes():
    family, ctx = make_ctx("infogan", {"n_cat": 10, "n_cont": 3})
    G, D, Q = ctx.nets["G"], ctx.nets["D"], ctx.nets["Q"]
    assert G.z_dim == 62 + 3 and G.num_classes == 10
    z = G.sample_latent(6, torch.Generator().manual_seed(0))
    assert z[:, 62:].abs().max() <= 1  # continuous codes ~ U(-1, 1)
    logits, mu, logvar = Q(D.features(G(z, torch.arange(6))))
    assert logits.shape == (6, 10) and mu.shape == (6, 3) and logvar.shape == (6, 3)


def test_paper_architecture_shapes_and_step():
    family, ctx = make_ctx("infogan", {"arch": "paper", "width": 8})
    G, D, Q = ctx.nets["G"], ctx.nets["D"], ctx.nets["Q"]
    assert isinstance(G.net[1], torch.nn.Linear) and G.net[1].out_features == 1024
    z = G.sample_latent(6, torch.Generator().manual_seed(0))
    x = G(z, torch.arange(6))
    assert x.shape == (6, 1, 28, 28) and D.features(x).shape == (6, 1024) and D(x).shape == (6,)
    logits, mu, logvar = Q(D.features(x))
    assert logits.shape == (6, 10) and mu.shape == (6, 2)
    scalars = family.train_step(ctx)
    assert all(torch.isfinite(v) for v in scalars.values())
    with pytest.raises(ValueError, match="28x28"):
        family.build(family.Config(arch="paper", img_resolution=32))


def test_style_jitter_and_invariance_term():
    from playground.data.augment import style_jitter

    x = torch.full((4, 1, 28, 28), -1.0)
    x[:, :, 8:20, 12:16] = 1.0                                    # a vertical bar
    x.requires_grad_(True)
    y = style_jitter(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= -1 - 1e-5 and y.max() <= 1 + 1e-5
    y.sum().backward()
    assert x.grad.abs().sum() > 0                                  # differentiable: G learns through it
    again = style_jitter(x.detach(), torch.Generator().manual_seed(0))
    assert torch.equal(y.detach(), again) and not torch.equal(again, x.detach())
    family, ctx = make_ctx("infogan", {"lambda_invariance": 1.0, "width": 8})
    scalars = family.train_step(ctx)
    assert all(torch.isfinite(v) for v in scalars.values())


def test_paired_mutual_information_bounds():
    from playground.losses import paired_mutual_information as mi

    K = 5
    onehot = torch.eye(K).repeat(4, 1)                             # balanced, confident, views agree
    assert mi(onehot, onehot).item() == pytest.approx(np.log(K), abs=1e-4)
    one_cluster = torch.zeros(20, K)
    one_cluster[:, 0] = 1                                          # every image in one category
    assert mi(one_cluster, one_cluster).item() == pytest.approx(0, abs=1e-4)
    uniform = torch.full((20, K), 1 / K)                           # not confident
    assert mi(uniform, uniform).item() == pytest.approx(0, abs=1e-4)
    disagree = torch.eye(K)[torch.randperm(20) % K]
    assert mi(onehot, disagree).item() < 0.5 * np.log(K)          # views assigned independently


def test_cluster_term_trains_q_on_real_images():
    family, ctx = make_ctx("infogan", {"lambda_cluster": 1.0, "width": 8})
    scalars = family.train_step(ctx)
    assert all(torch.isfinite(v) for v in scalars.values())
    assert 0 <= scalars["info/real_cluster_mi"] <= np.log(10) + 1e-4
    Q = ctx.nets["Q"]
    before = [p.detach().clone() for p in Q.parameters()]
    real, _ = ctx.next_batch()
    f_real = ctx.nets["D"].features(real)
    mi = infogan.cluster_information(Q, ctx.nets["D"], real, f_real, ctx)
    ctx.opts["D"].zero_grad()
    (-mi).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in Q.parameters())
    ctx.opts["D"].step()
    assert any(not torch.equal(a, b) for a, b in zip(before, Q.parameters()))
    _, plain = make_ctx("infogan", {"width": 8})
    assert "info/real_cluster_mi" not in family.train_step(plain)   # off by default


def test_mode_seeking_term_punishes_a_generator_that_ignores_its_noise():
    from playground.losses import mode_seeking, share_in_pairs

    z = torch.randn(16, 62)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    same = mode_seeking(torch.cat([x, x + 1e-3]), z)              # the noise changes nothing
    varied = mode_seeking(torch.cat([x, torch.rand(8, 1, 28, 28) * 2 - 1]), z)
    assert same > 100 * varied
    x1 = torch.cat([x, x + 1e-3]).requires_grad_(True)
    mode_seeking(x1, z).backward()
    assert x1.grad.abs().sum() > 0                                 # G learns through it

    t = torch.arange(7)
    paired = share_in_pairs(t)
    assert paired.tolist() == [0, 1, 2, 0, 1, 2, 6] and t.tolist() == list(range(7))   # a copy; odd row kept

    family, ctx = make_ctx("infogan", {"lambda_diversity": 1.0, "width": 8})
    scalars = family.train_step(ctx)
    assert all(torch.isfinite(v) for v in scalars.values()) and scalars["G/mode_seeking"] > 0
    _, plain = make_ctx("infogan", {"width": 8})
    assert "G/mode_seeking" not in family.train_step(plain)          # off by default


def test_minibatch_discrimination_sees_near_copies_that_a_spread_misses():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(12, kernels=5, dim=3)
    distinct = torch.randn(8, 12) * 100                              # far apart in every projection
    copies = distinct[:2].repeat(4, 1)                               # two images, four times each
    close_distinct, close_copies = layer(distinct)[:, 12:], layer(copies)[:, 12:]
    assert torch.equal(layer(distinct)[:, :12], distinct)            # the features pass through
    # each copy has three exact twins (exp(0) = 1 each, itself left out); distinct rows have ~none
    assert torch.all(close_copies >= 3 - 1e-5) and torch.all(close_distinct < 0.5)
    assert torch.allclose(layer(distinct[:1])[:, 12:], torch.zeros(1, 5))   # alone: nothing is close

    family, ctx = make_ctx("infogan", {"d_minibatch_disc": "true", "width": 8})
    D = ctx.nets["D"]
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    assert D.features(x).shape[1] == D.feature_channels              # Q's input is unchanged
    # one image's score depends on the rest of its batch
    assert not torch.allclose(D(x)[:1], D(torch.cat([x[:1], x[:1].expand(7, -1, -1, -1)]))[:1])
    scalars = family.train_step(ctx)
    assert all(torch.isfinite(v) for v in scalars.values())
    with pytest.raises(ValueError, match="conv"):
        family.build(family.Config(arch="paper", d_minibatch_disc=True))
    _, plain = make_ctx("infogan", {"width": 8})
    assert isinstance(plain.nets["D"].head, torch.nn.Conv2d)         # off by default: one score per image


def test_code_reaches_g():
    _, ctx = make_ctx("infogan", {})
    G = ctx.nets["G"].eval()
    z = G.sample_latent(4, torch.Generator().manual_seed(0))
    base = G(z, torch.zeros(4, dtype=torch.long))
    assert not torch.allclose(base, G(z, torch.ones(4, dtype=torch.long)))  # categorical code
    assert not torch.allclose(base, G(G.apply_controls(z, code_cont=[1.5, -1.5]), torch.zeros(4, dtype=torch.long)))


def test_mutual_information_loss_decreases(idx_dir):
    spec = TrainSpec(family="infogan", dataset="mnist", data_dir=str(idx_dir), steps=60, batch_size=32,
                     seed=0, log_every=1, sample_every=10**6, overrides={"width": 16})
    info = [ev.scalars["info/loss"] for ev in train(spec) if ev.kind == "step"]
    assert np.mean(info[-10:]) < 0.5 * np.mean(info[:5]), info


def test_supervised_needs_labels_and_matching_codes(idx_dir):
    spec = TrainSpec(family="infogan", dataset="mnist", data_dir=str(idx_dir), steps=2, batch_size=16,
                     overrides={"supervised": "true", "width": 8, "n_cat": 5})
    with pytest.raises(PlaygroundError, match="n_cat"):
        list(train(spec))
    spec.overrides["n_cat"] = 10
    assert list(train(spec))[-1].kind == "done"


def test_shape_measures_see_width_and_slant():
    img = -torch.ones(2, 1, 28, 28)
    img[0, 0, 4:24, 13:15] = 1             # thin upright bar
    img[1, 0, 4:24, 11:17] = 1             # thick upright bar
    m = measures(img)
    assert m["ink"][1] > m["ink"][0] and abs(m["slant"][0]) < 1e-3
    lean = -torch.ones(1, 1, 28, 28)
    for y in range(4, 24):
        lean[0, 0, y, 24 - y // 2 - 2: 24 - y // 2] = 1   # top further right than bottom
    assert measures(lean)["slant"][0] > 0.3
    assert pearson(torch.arange(5.0), torch.arange(5.0) * 2) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def tiny_infogan(tmp_path_factory):
    out = tmp_path_factory.mktemp("ig") / "run"
    assert main(["train", "infogan", "--dataset", "mnist5k", "--steps", "3", "--batch-size", "16",
                 "--set", "width=8", "--out", str(out), "--no-tensorboard"]) == 0
    return str(out)


def test_sweep_grid_layout(tiny_infogan):
    values = [-2, -1, 0, 1, 2]
    images = api.code_sweep(tiny_infogan, seed=3, code=1, values=values)
    assert images.shape == (10 * 5, 28, 28, 1)
    rows = images.reshape(10, 5, 28, 28)
    assert not (rows[0, 0] == rows[0, 4]).all()   # along a row the code changes
    again = api.code_sweep(tiny_infogan, seed=3, code=1, values=values)
    assert (again == images).all()
    with pytest.raises(PlaygroundError, match="code must be"):
        api.code_sweep(tiny_infogan, seed=3, code=2, values=values)


def test_noise_grid_rows_are_codes_and_columns_are_noise_seeds(tiny_infogan):
    from playground.capabilities.codes import noise_grid

    model = api.load(tiny_infogan)
    images = noise_grid(model, [0, 1, 2])
    assert images.shape == (10 * 3, 28, 28, 1)
    cells = images.reshape(10, 3, 28, 28)
    assert not (cells[0, 0] == cells[0, 1]).all()                  # along a row the noise changes
    assert not (cells[0, 0] == cells[1, 0]).all()                  # down a column the code does
    one = api.sample(tiny_infogan, 1, seed=2, labels=[4], code_cont=[0.0, 0.0])[0, ..., 0]
    assert (cells[4, 2] == one).all()                              # each cell is that seed's sample
    with pytest.raises(PlaygroundError):
        noise_grid(api.load("cgan-mnist"), [0])


def test_cli_sample_with_codes(tiny_infogan, tmp_path):
    assert main(["sample", tiny_infogan, "--n", "4", "--code-cat", "2", "--code-cont", "0.5,-1",
                 "--out", str(tmp_path / "a.npz")]) == 0
    d = np.load(tmp_path / "a.npz")
    assert d["labels"].tolist() == [2, 2, 2, 2]
    assert main(["sample", tiny_infogan, "--code-cont", "1,2,3", "--out", str(tmp_path / "b.png")]) == 2
    assert main(["sample", tiny_infogan, "--code-cont", "x", "--out", str(tmp_path / "b.png")]) == 2


def test_slider_labels_are_earned():
    from playground.eval.infogan import effect_label

    assert effect_label({"ink": 0.1, "slant": -0.62, "width": 0.2}) == "slant (-, r=-0.62)"
    assert effect_label({"ink": 0.08, "height": -0.05}) == "no clear effect (strongest: ink, r=0.08)"


def test_code_acc_refuses_non_infogan(tiny_infogan, idx_dir, tmp_path):
    with pytest.raises(PlaygroundError, match="the code-acc metric: only codes models"):
        api.evaluate("cgan-mnist", ["code-acc"], n=10)
    res = api.evaluate(tiny_infogan, ["code-acc"], n=20)["metrics"]["code-acc"]
    assert 0 <= res["value"] <= 1 and len(res["matching"]) == 10
    assert res["classifier_test_accuracy"] > 0.9 and "c1" in res["continuous_codes"]


def test_semi_supervised_reads_only_its_labelled_subset():
    """labels_per_class=k (ss-InfoGAN): Q learns the labels of k fixed images per class and no
    other label is read: with the subset held, relabelling every image outside it leaves the step
    unchanged. (Picking a class-balanced subset reads the labels once, as semi-supervised
    benchmarks do; the training step reads only the subset's.)"""
    from playground.data.base import ImageDataset
    from playground.engine.context import BatchSampler
    from test_families import tiny_dataset

    family, ctx = make_ctx("infogan", {"labels_per_class": 3, "lambda_cluster": 1.0})
    assert family.labels_needed(ctx.cfg) and not family.labels_needed(infogan.Config())
    subset = ctx.sampler.labelled_subset(3)
    labels = ctx.sampler.labels[subset]
    assert len(subset) == 30 and len(set(subset.tolist())) == 30
    assert torch.bincount(labels, minlength=10).tolist() == [3] * 10
    # fixed by the run's seed alone: the same subset for a resumed run, another for another seed
    ds = tiny_dataset()
    assert torch.equal(BatchSampler(ds, 8, 0, "cpu").labelled_subset(3), subset)
    assert not torch.equal(BatchSampler(ds, 8, 1, "cpu").labelled_subset(3), subset)
    with pytest.raises(ValueError, match="fewer than 60 labelled"):
        BatchSampler(ds, 8, 0, "cpu").labelled_subset(60)

    def one_step(dataset):
        torch.manual_seed(0)
        fam, c = make_ctx("infogan", {"labels_per_class": 3, "lambda_cluster": 1.0})
        c.sampler = BatchSampler(dataset, 8, 0, "cpu")
        c.sampler.labelled_subset = lambda per_class: subset         # the subset held fixed
        c.rng.gen.manual_seed(0)
        return fam.train_step(c)

    base = one_step(ds)
    assert torch.isfinite(base["info/labelled_ce"]) and base["info/labelled_ce"] > 0
    outside = torch.ones(len(ds), dtype=torch.bool)
    outside[subset] = False
    relabelled = ds.labels.clone()
    relabelled[outside] = (relabelled[outside] + 1) % 10
    again = one_step(ImageDataset(ds.images, relabelled, ds.name, ds.class_names))
    assert all(torch.equal(base[k], again[k]) for k in base)
    inside = ds.labels.clone()
    inside[subset] = (inside[subset] + 1) % 10
    changed = one_step(ImageDataset(ds.images, inside, ds.name, ds.class_names))
    assert not torch.equal(base["info/labelled_ce"], changed["info/labelled_ce"])
    # refused: a negative count, with supervised=true, and codes that cannot be the classes
    for bad in ({"labels_per_class": -1}, {"labels_per_class": 3, "supervised": True},
                {"labels_per_class": 3, "n_cat": 8}):
        with pytest.raises(ValueError):
            family.build(family.Config(**{"num_classes": 10, **bad}))

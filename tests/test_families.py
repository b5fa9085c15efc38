import copy

import pytest
import torch

from playground import losses
from playground.data.base import ImageDataset
from playground.contract import make_config
from playground.engine.config import fit_to_dataset
from playground.engine.context import BatchSampler, StepContext
from playground.errors import PlaygroundError
from playground.registry import family_names, get_family
from playground.tools.summary import family_summary

from conftest import make_digits

CASES = [("gan", {}), ("gan", {"loss": "minimax"}), ("dcgan", {}), ("cgan", {}), ("cgan", {"arch": "conv"}),
         ("wgan", {}), ("wgan-gp", {}), ("wgan-gp", {"critic_norm": "none"})]


def tiny_dataset(res=28) -> ImageDataset:
    x, y = make_digits(64)
    ds = ImageDataset(torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y).long(), "tiny",
                      [str(i) for i in range(10)])
    return ds.pad_to(res)


def make_ctx(name, overrides, res=28, batch=8):
    family = get_family(name)
    ds = tiny_dataset(res)
    cfg = fit_to_dataset(make_config(family, {"width": 8, **overrides} if "width" in
                                     family.Config.__dataclass_fields__ else overrides), family, ds)
    nets = family.build(cfg)
    return family, StepContext(nets=nets, opts=family.optimizers(cfg, nets), cfg=cfg,
                               device=torch.device("cpu"), sampler=BatchSampler(ds, batch, 0, "cpu"),
                               gen=torch.Generator().manual_seed(0))


def test_registry_lists_every_family():
    assert family_names() == ["gan", "dcgan", "cgan", "wgan", "wgan-gp", "infogan", "cyclegan", "srgan",
                              "stylegan", "sagan", "biggan", "progan", "tedigan"]
    with pytest.raises(PlaygroundError, match="unknown family"):
        get_family("vae")


@pytest.mark.parametrize("name,overrides", CASES)
@pytest.mark.parametrize("res", [28, 32])
def test_generator_contract(name, overrides, res):
    family, ctx = make_ctx(name, overrides, res)
    G = ctx.nets["G"].eval()
    assert (G.img_channels, G.img_resolution) == (1, res)
    assert G.num_classes == (10 if family.conditional else 0)
    z = torch.randn(5, G.z_dim)
    x = G(z, torch.arange(5)) if G.num_classes else G(z)
    assert x.shape == (5, 1, res, res)
    assert x.min() >= -1 and x.max() <= 1
    D = ctx.nets["D"]
    d = D(x, torch.arange(5)) if G.num_classes else D(x)
    assert d.shape == (5,)


@pytest.mark.parametrize("name,overrides", CASES)
def test_one_train_step_is_finite_and_changes_weights(name, overrides):
    family, ctx = make_ctx(name, overrides)
    before = {k: copy.deepcopy(n.state_dict()) for k, n in ctx.nets.items()}
    scalars = family.train_step(ctx)
    assert "D/loss" in scalars and "G/loss" in scalars
    assert all(torch.isfinite(v).all() for v in scalars.values())
    for k, net in ctx.nets.items():
        changed = any(not torch.equal(before[k][p], v) for p, v in net.state_dict().items())
        assert changed, f"{name}: {k} did not change"


def test_wgan_clips_critic_weights_and_logs_distance():
    family, ctx = make_ctx("wgan", {"clip": 0.01})
    scalars = family.train_step(ctx)
    assert all(p.abs().max() <= 0.01 + 1e-7 for p in ctx.nets["D"].parameters())
    assert "W_dist" in scalars
    assert ctx.batches_seen == 5  # n_critic batches per step


def test_wgan_gp_penalty_and_no_batchnorm():
    family, ctx = make_ctx("wgan-gp", {})
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in ctx.nets["D"].modules())
    assert "D/gp" in family.train_step(ctx)
    with pytest.raises(PlaygroundError, match="critic_norm .* must be one of layer, none"):
        make_config(family, {"critic_norm": "batch"})           # the setting's declared choices
    with pytest.raises(ValueError, match="BatchNorm"):
        family.build(family.Config(critic_norm="batch"))      # and the family itself, for a direct caller


def test_cgan_mlp_matches_the_notes():
    family = get_family("cgan")
    nets = family.build(make_config(family))
    widths = [m.out_features for m in nets["G"].modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 256, 512, 1024, 784]
    assert nets["G"].net[0].in_features == 110
    dwidths = [(m.in_features, m.out_features) for m in nets["D"].modules() if isinstance(m, torch.nn.Linear)]
    assert dwidths == [(794, 512), (512, 256), (256, 1)]


def test_dcgan_rules():
    family = get_family("dcgan")
    nets = family.build(make_config(family))
    kinds = {type(m) for m in nets["G"].modules()} | {type(m) for m in nets["D"].modules()}
    assert torch.nn.Linear not in kinds and torch.nn.MaxPool2d not in kinds
    assert torch.nn.Tanh in kinds and torch.nn.LeakyReLU in kinds and torch.nn.BatchNorm2d in kinds


def test_losses_known_values():
    zero = torch.zeros(4)
    assert torch.isclose(losses.d_bce(zero, zero), torch.tensor(2 * 0.6931), atol=1e-3)
    assert torch.isclose(losses.g_nonsaturating(zero), torch.tensor(0.6931), atol=1e-3)
    assert torch.isclose(losses.g_minimax(zero), torch.tensor(-0.6931), atol=1e-3)
    assert losses.d_wasserstein(torch.ones(3), -torch.ones(3)) == -2


def test_gradient_penalty_of_a_unit_gradient_critic_is_zero():
    D = lambda x: x.flatten(1).sum(1) / x[0].numel() ** 0.5  # ||grad|| = 1 everywhere
    real, fake = torch.randn(4, 1, 4, 4), torch.randn(4, 1, 4, 4)
    gp = losses.gradient_penalty(D, real, fake, torch.rand(4, 1, 1, 1))
    assert gp.item() < 1e-10


def test_summary_lists_layers_and_params():
    text = family_summary("cgan")
    assert "Linear" in text and "[2, 784]" in text and "total params: 1,511,312" in text


def test_gradient_penalty_sees_the_augmented_reals_that_d_loss_sees(monkeypatch):
    family, ctx = make_ctx("wgan-gp", {"n_critic": 1})
    ctx.augment_policy = ["translation", "cutout"]
    seen, penalised = [], []
    ctx.nets["D"].register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    gp = losses.gradient_penalty
    monkeypatch.setattr(losses, "gradient_penalty",
                        lambda D, real, fake, eps, c=None: penalised.append((real.clone(), fake.clone()))
                        or gp(D, real, fake, eps, c))
    family.train_step(ctx)
    # n_critic = 1: G's update calls D on the fakes first; then D's loss on reals, fakes; then the penalty
    real_for_loss, fake_for_loss = seen[1], seen[2]
    plain, _ = ctx.sampler.batch(0)
    assert not torch.equal(real_for_loss, plain)
    assert torch.equal(penalised[0][0], real_for_loss) and torch.equal(penalised[0][1], fake_for_loss)

"""Settings that describe themselves: every Config field declares its label, help, group and bounds
once (contract/settings.py); one validator applies them and the server's limits; the Train tab and
the CLI are built from that schema; one spelling per concept, old checkpoints still load."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from playground import api, checkpoint
from playground.cli import main
from playground.contract import make_config, schema
from playground.contract.settings import GROUPS, RENAMED, Setting, check_value, settable, upgrade_config
from playground.errors import PlaygroundError
from playground.registry import family_names, get_family, shipped_models
from playground.server.jobs import JobManager, Limits


@pytest.mark.parametrize("name", family_names())
def test_every_field_describes_itself(name):
    family = get_family(name)
    defaults = dataclasses.asdict(family.Config())
    for key, spec in schema(family.Config).items():
        assert isinstance(spec, Setting) and spec.label and spec.group in GROUPS, (name, key)
        if key in family.derived_fields:
            continue
        assert spec.help, (name, key)
        value = defaults[key]
        if isinstance(value, int) and not isinstance(value, bool):   # sizes, counts: never negative
            assert spec.low is not None and spec.low >= 0, (name, key)
        if key.startswith("lr") and key != "lr_D":
            assert spec.above == 0, (name, key)                        # a learning rate is positive
        if spec.choices:
            assert value in spec.choices, (name, key)
        check_value(key, value, spec)                                  # every default passes its own bounds


@pytest.mark.parametrize("name", family_names())
def test_one_spelling_for_the_learning_rates(name):
    fields = schema(get_family(name).Config)
    assert "lr" in fields and not set(RENAMED) & set(fields), name
    assert not {"lr_G", "d_lr", "g_lr"} & set(fields)


def test_the_validator_applies_the_declared_bounds():
    gp = get_family("wgan-gp")
    with pytest.raises(PlaygroundError, match=r"lr \(learning rate\) must be positive"):
        make_config(gp, {"lr": "0"})
    with pytest.raises(PlaygroundError, match=r"beta1 \(Adam β1\) must be in \[0, 1\)"):
        make_config(gp, {"beta1": 1.0})
    with pytest.raises(PlaygroundError, match="n_critic must be at least 1, got 0"):
        make_config(gp, {"n_critic": 0})
    with pytest.raises(PlaygroundError, match=r"gp_weight \(GP λ\) must not be negative"):
        make_config(gp, {"gp_weight": -1})
    with pytest.raises(PlaygroundError, match="must be a finite number"):
        make_config(gp, {"gp_weight": "nan"})
    with pytest.raises(PlaygroundError, match=r"mixing_prob \(mixing probability\) must be at most 1"):
        make_config(get_family("stylegan"), {"mixing_prob": 1.5})
    assert make_config(gp, {"n_critic": "3", "lr": "1e-3"}).n_critic == 3


def test_server_limits_cap_the_settings_that_name_them():
    family = get_family("wgan")
    caps = Limits(max_n_critic=7).setting_caps()
    assert make_config(family, {"n_critic": 7}, limits=caps).n_critic == 7
    with pytest.raises(PlaygroundError, match="n_critic must be between 1 and 7 on this server"):
        make_config(family, {"n_critic": 8}, limits=caps)
    assert make_config(family, {"n_critic": 8}).n_critic == 8      # the CLI has no server limit
    jobs = JobManager("unused", Limits(max_n_critic=7))
    with pytest.raises(PlaygroundError, match="between 1 and 7 on this server"):
        jobs.check_can_start(api.TrainSpec(family="wgan", overrides={"n_critic": 9}, steps=10, batch_size=8))


def test_an_old_spelling_is_named_when_set_and_read_when_saved(tmp_path):
    with pytest.raises(PlaygroundError, match="lr_G is now called lr: set lr=0.001"):
        make_config(get_family("infogan"), {"lr_G": 0.001})
    assert upgrade_config({"lr_G": 1e-3, "lr_D": 2e-4}) == {"lr": 1e-3, "lr_D": 2e-4}
    # a checkpoint written before the rename (config.json with lr_G) loads and samples the same
    old = tmp_path / "infogan-old"
    shutil.copytree(shipped_models()["infogan-mnist"][0], old)
    meta = json.loads((old / "config.json").read_text())
    if "lr" in meta["config"]:                                   # (the shipped one may still say lr_G)
        meta["config"]["lr_G"] = meta["config"].pop("lr")
    (old / "config.json").write_text(json.dumps(meta))
    assert checkpoint.read_config(old)["config"]["lr"] == meta["config"]["lr_G"]
    assert np.array_equal(api.sample(str(old), 8, seed=3), api.sample("infogan-mnist", 8, seed=3))


def test_a_removed_setting_loads_at_its_neutral_value_and_is_refused_otherwise(tmp_path):
    infogan = get_family("infogan")
    assert infogan.Config.REMOVED and not set(infogan.Config.REMOVED) & set(schema(infogan.Config))
    with pytest.raises(PlaygroundError, match="'jitter_shade' was removed .*docs/experiments.md"):
        make_config(infogan, {"jitter_shade": 1.0})
    # a checkpoint that holds it at the neutral value (the shipped InfoGANs do) loads and samples the same
    old = tmp_path / "infogan-old"
    shutil.copytree(shipped_models()["infogan-mnist"][0], old)
    meta = json.loads((old / "config.json").read_text())
    meta["config"].update(jitter_shade=0.0, d_minibatch_std=False)
    (old / "config.json").write_text(json.dumps(meta))
    assert np.array_equal(api.sample(str(old), 8, seed=3), api.sample("infogan-mnist", 8, seed=3))
    # one that used it is refused with the setting's name, not sampled wrongly
    meta["config"]["d_minibatch_std"] = True
    (old / "config.json").write_text(json.dumps(meta))
    with pytest.raises(PlaygroundError, match="uses d_minibatch_std=True, a setting this version no longer has"):
        api.sample(str(old), 8, seed=3)
    for name in family_names():                                  # every removed key names a neutral value
        for key in get_family(name).Config.REMOVED:
            assert key not in schema(get_family(name).Config), (name, key)


def test_the_cli_lists_each_familys_settings_from_the_schema(capsys):
    assert main(["settings", "wgan-gp"]) == 0
    out = capsys.readouterr().out
    for key in settable(get_family("wgan-gp")):
        assert f"  {key} " in out
    assert "GP λ: weight of the gradient penalty" in out and "[>= 0, < 1]" in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    for name in family_names():
        row = " ".join(f"{k}={v}" for k, v in ((r["name"], r["default"]) for r in api.family_setting_table(name)))
        assert f"  {name}: {row}" in help_text


def test_the_train_tab_offers_exactly_the_schemas_tab_settings():
    from playground.ui.train import TrainForm, _overrides, form_fields, tab_settings

    marked = {k for name in family_names() for k, s in schema(get_family(name).Config).items()
              if s.tab and k not in get_family(name).derived_fields}
    assert set(tab_settings()) == marked
    assert form_fields()[:3] == ("family", "dataset", "upload") and set(marked) <= set(form_fields())
    form = TrainForm.from_values({"family": "wgan-gp", "dataset": "mnist5k", "upload": None, "batch_size": 8,
                                  "steps": 3, "ema": 0, "seed": 0, "device": "cpu", "augment": False,
                                  "loss": "(fixed by the family)", "lr": 1e-4, "n_critic": 3.0, "clip": 0.5,
                                  "gp_weight": 5, "lr_D": 0, "beta1": 0.0, "beta2": 0.9})
    # the family's own settings, typed by the schema; clip (WGAN's) and the non-choice loss dropped
    assert _overrides(form.family, form.settings) == {"lr": 1e-4, "n_critic": 3, "gp_weight": 5.0, "beta1": 0.0,
                                                     "beta2": 0.9}
    with pytest.raises(PlaygroundError, match="n_critic must be a whole number"):
        _overrides("wgan-gp", {"n_critic": 2.5})

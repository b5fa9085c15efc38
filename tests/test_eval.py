import json

import numpy as np
import pytest
import torch
import torch_fidelity

from playground import api
from playground.registry import CHECKPOINT_ROOT
from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.eval import fidelity
from playground.eval.fidelity import FeatureNet, ImagesDataset, register_domain_extractor
from playground.models import load_model


@pytest.fixture(autouse=True, scope="module")
def _cache(tmp_path_factory):
    """One fresh feature cache for this module: the first test fills it, later ones reuse it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYGROUND_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def test_real_statistics_are_cached(monkeypatch):
    reads = []
    real_getitem = fidelity.ImagesDataset.__getitem__
    monkeypatch.setattr(fidelity.ImagesDataset, "__getitem__", lambda self, i: reads.append(i) or real_getitem(self, i))
    model = load_model("dcgan-fashion")
    fidelity.fidelity_metrics(model, ["fid"], n=200, seed=0)
    assert len(reads) > 0                               # the first call extracts real features...
    files = list(fidelity.cache_root().rglob("*"))
    assert any("fashion-train" in f.name for f in files) and any(f.name.startswith("floor-") for f in files)
    reads.clear()
    fidelity.fidelity_metrics(model, ["fid"], n=200, seed=0)
    assert reads == []                                  # ...the second reads no real image: all cached


def fid(a, b, name):
    return torch_fidelity.calculate_metrics(input1=a, input2=b, feature_extractor=name, fid=True, cuda=False,
                                            verbose=False, save_cpu_ram=True, cache=False)["frechet_inception_distance"]


def test_domain_extractor_shapes():
    name = register_domain_extractor("fashion")
    assert register_domain_extractor("fashion") == name  # registering twice is harmless
    cls = torch_fidelity.registry.FEATURE_EXTRACTORS_REGISTRY[name]
    ext = cls(name, ["feat", "logits_unbiased"]).eval()
    x = load_dataset("fashion", "test").images[:7]
    feats, logits = ext(x)
    assert feats.shape == (7, 128) and logits.shape == (7, 10)
    rgb_feats, _ = ext(x.repeat(1, 3, 1, 1))   # grey replicated to RGB gives the same features
    assert torch.allclose(feats, rgb_feats, atol=1e-4)


def test_fid_sanity_self_noise_and_halves():
    name = register_domain_extractor("fashion")
    real = load_dataset("fashion", "test").images
    perm = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))
    a, b = ImagesDataset(real[perm[:2000]]), ImagesDataset(real[perm[2000:4000]])
    g = torch.Generator().manual_seed(1)
    noise = ImagesDataset(torch.randint(0, 256, (2000, 1, 28, 28), generator=g, dtype=torch.uint8))
    same = fid(a, a, name)
    halves = fid(a, b, name)
    noise_vs_real = fid(noise, b, name)
    assert abs(same) < 1e-3
    assert noise_vs_real > 20 * halves, (noise_vs_real, halves)


def test_wrapper_equals_torch_fidelity_directly():
    model = load_model("dcgan-fashion")
    res = fidelity.fidelity_metrics(model, ["fid"], n=500, seed=3)
    net = FeatureNet("fashion")
    direct = torch_fidelity.calculate_metrics(
        input1=fidelity.wrap(model, rgb=False), input2=ImagesDataset(load_dataset("fashion", "train").images),
        input1_model_num_samples=500, feature_extractor=net.name, fid=True, cuda=False, verbose=False,
        rng_seed=3, save_cpu_ram=True, cache=False)
    assert res["values"]["frechet_inception_distance"] == pytest.approx(direct["frechet_inception_distance"], rel=1e-4)
    assert res["real_vs_real_floor"]["n_test"] == 10000 and res["real_vs_real_floor"]["fid_test_vs_train"] > 0
    assert res["feature_network"].startswith("playground classifier") and len(res["weights_sha256"]) == 16
    assert res["n_generated"] == 500 and res["real_split"] == "fashion/train"


def test_conditional_adapter_is_class_balanced():
    model = load_model("cgan-fashion")
    adapter = fidelity.GeneratorAdapter(model.G)
    from playground.eval.classifier import load_classifier, predict

    net, _ = load_classifier("fashion")
    x = torch.cat([adapter(torch.randn(100, model.G.z_dim)) for _ in range(3)])
    pred = predict(net, x.float() / 127.5 - 1)
    counts = np.bincount(pred.numpy(), minlength=10)
    assert counts.min() >= 10  # every class shows up (30 asked for each)


def test_api_evaluate_all_metrics_have_provenance():
    res = api.evaluate("cgan-fashion", ["fid", "isc", "kid", "prc", "cond-acc"], n=500, seed=0)["metrics"]
    assert set(res) == {"fid", "isc", "kid", "prc", "cond-acc"}
    for m in ("fid", "isc", "kid", "prc"):
        assert {"feature_network", "weights_sha256", "n_generated", "n_real", "real_split", "seed",
                "real_vs_real_floor"} <= set(res[m])
    assert res["isc"]["value"] > 1.0
    assert res["cond-acc"]["classifier_test_accuracy"] > 0.85
    # P/R carries its own real-vs-real reference: held-out real images, same counts and k-NN balls
    ref = res["prc"]["real_vs_real_prc"]
    assert ref["n_test"] == ref["n_train"] == 500 and 0.5 < ref["precision"] <= 1 and 0.5 < ref["recall"] <= 1
    assert "real_vs_real_prc" not in res["fid"]
    from playground.tools.cards import _metric_lines

    line = next(x for x in _metric_lines({"prc": res["prc"]}) if x.startswith("### prc"))
    assert f"held-out real images vs training images: P {ref['precision']:.3f} / R {ref['recall']:.3f}" in line


def test_bad_inputs(tmp_path):
    with pytest.raises(PlaygroundError, match="too small"):
        fidelity.fidelity_metrics(load_model("dcgan-fashion"), ["kid"], n=20, seed=0)
    with pytest.raises(PlaygroundError, match="unknown metric"):
        api.evaluate("dcgan-fashion", ["fidd"])
    with pytest.raises(PlaygroundError, match="the per-class-fid metric: only conditional models"):
        api.evaluate("dcgan-fashion", ["per-class-fid"], n=100)
    # a checkpoint that records no dataset
    import shutil

    path = tmp_path / "nodata"
    shutil.copytree(CHECKPOINT_ROOT / "dcgan-fashion", path,
                    ignore=shutil.ignore_patterns("trainer_state*"))
    cfg = json.loads((path / "config.json").read_text())
    cfg.pop("dataset")
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(PlaygroundError, match="records no dataset"):
        api.evaluate(str(path), ["fid"], n=100)
    with pytest.raises(PlaygroundError, match="Inception-v3 weights not found"):
        FeatureNet("fashion", prefer="inception")


def test_a_new_metric_is_one_registration(monkeypatch, tmp_path, capsys):
    """docs/architecture.md's example: one Metric row, and eval, the api, the CLI's help, the
    Evaluate tab and the model card all know the metric."""
    import shutil

    from playground.capabilities import metrics
    from playground.cli import main
    from playground.registry import shipped_models
    from playground.tools.cards import record_metrics
    from playground.ui import evaluate as tab

    def brightness(req):
        x = api.sample(req.name, 20, req.seed)
        return {"brightness": {"value": round(float(x.mean()) / 255, 4), "n_generated": 20, "seed": req.seed}}

    monkeypatch.setattr(metrics, "METRICS", metrics.METRICS + (
        metrics.Metric("brightness", brightness, metrics.NOISE, "higher", "mean pixel value of the samples"),))
    res = api.evaluate("cgan-mnist", ["brightness"], n=20, seed=1)
    assert res["metrics"]["brightness"]["value"] == round(float(api.sample("cgan-mnist", 20, 1).mean()) / 255, 4)
    assert "brightness" in api.metric_names() and api.metric_direction("brightness") == "higher"
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "brightness (mean pixel value of the samples, higher is better)" in " ".join(capsys.readouterr().out.split())
    assert "| `brightness` | mean pixel value of the samples | higher |" in tab.metrics_legend()
    model = tmp_path / "m"
    shutil.copytree(shipped_models()["cgan-mnist"][0], model)
    card = record_metrics(str(model), res["metrics"]).read_text()
    assert f"### brightness: **{res['metrics']['brightness']['value']}** (higher is better)" in card
    with pytest.raises(PlaygroundError, match="the brightness metric: only"):
        api.evaluate("srgan-x4", ["brightness"], n=20)


def test_every_metric_declares_what_it_measures():
    from playground.capabilities.metrics import METRICS, metric_of, metric_table

    assert [m.name for m in METRICS] == list(metric_table())
    for m in METRICS:
        assert m.kinds and m.summary and m.better in ("higher", "lower", "")
        assert all(metric_of(entry) == m.name for entry in m.card_entries)
    assert metric_of("text-edits") == "text" and metric_of("fid") == "fid"
    with pytest.raises(PlaygroundError, match="unknown metric"):
        api.evaluate("cgan-mnist", ["nope"], n=20)

"""The written family protocol: every family follows it, callers ask the kind, a new family is one
file plus one registry line, and the package's imports point one way without cycles."""

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from playground import api, registry
from playground.contract import make_config
from playground.errors import PlaygroundError
from playground.contract import GENERATOR_PROTOCOLS, BaseConfig, Family, Kind
from playground.registry import family_names, get_family

PACKAGE = Path(__file__).resolve().parent.parent / "playground"


@pytest.mark.parametrize("name", family_names())
def test_every_family_follows_the_protocol(name):
    family = get_family(name)
    assert isinstance(family, Family) and family.name == name and isinstance(family.kind, Kind)
    assert issubclass(family.Config, BaseConfig)
    assert set(BaseConfig.DERIVED) <= set(family.derived_fields)
    G = family.build_generator(family.Config())
    assert isinstance(G, GENERATOR_PROTOCOLS[family.kind]), f"{name}'s G breaks the {family.kind.value} contract"
    nets = family.build(family.Config())
    assert next(iter(nets)) == "G" and set(family.optimizers(family.Config(), nets)) <= set(nets)


@pytest.mark.parametrize("name", family_names())
def test_data_derived_settings_are_refused_with_a_reason(name):
    family = get_family(name)
    for field in family.derived_fields:
        with pytest.raises(PlaygroundError, match=f"{field} is set from the dataset"):
            make_config(family, {field: "3"})
    assert set(api.family_settings(name)).isdisjoint(family.derived_fields)


def test_a_family_module_must_declare_itself(monkeypatch):
    monkeypatch.setattr(registry, "FAMILY_MODULES", registry.FAMILY_MODULES + (("mislabelled", "toy_family"),))
    with pytest.raises(PlaygroundError, match="registered as 'mislabelled'"):
        get_family("mislabelled")
    monkeypatch.setattr(registry, "FAMILY_MODULES", registry.FAMILY_MODULES + (("gan", "toy_family"),))
    with pytest.raises(PlaygroundError, match="duplicate family name 'gan'"):
        get_family("gan")
    with pytest.raises(TypeError, match="kind must be a Kind"):
        Family(name="x", kind="sampler", Config=BaseConfig, build=dict, build_generator=dict,
               optimizers=dict, train_step=dict)


def test_a_new_family_is_one_file_and_one_registry_line(monkeypatch, idx_dir, tmp_path):
    """docs/architecture.md's walk-through, done: tests/toy_family.py plus its line in FAMILY_MODULES."""
    monkeypatch.setattr(registry, "FAMILY_MODULES", registry.FAMILY_MODULES + (("toy", "toy_family"),))
    assert "toy" in api.list_families()
    out = tmp_path / "runs" / "toy-run"
    spec = api.TrainSpec(family="toy", dataset="mnist", data_dir=str(idx_dir), steps=3, batch_size=8, seed=1,
                         out=str(out), log_every=1, sample_every=3, ckpt_every=3)
    events = list(api.train(spec))
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == [1, 2, 3] and all(np.isfinite(e.scalars["D/loss"]) for e in steps)
    assert events[-1].kind == "done" and events[-1].message == "finished"
    images = api.sample(str(out), 4, seed=0)                  # it samples like any shipped model...
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    assert np.array_equal(images, api.sample(str(out), 4, seed=0))
    listed = {m["name"]: m["kind"] for m in api.list_models(tmp_path / "runs")}
    assert listed[str(out)] is Kind.SAMPLER                    # ...and the sampler tabs list it
    with pytest.raises(PlaygroundError, match="only translator models"):
        api.translate(str(out), np.zeros((28, 28, 1), np.uint8))


def _calls_and_compares(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hasattr":
            yield f"{path.name}:{node.lineno} hasattr"
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and side.value in family_names():
                    yield f"{path.name}:{node.lineno} compares with the family name {side.value!r}"


def test_callers_ask_the_kind_never_hasattr_or_the_family_name():
    callers = [PACKAGE / "api.py", PACKAGE / "models.py", PACKAGE / "cli.py",
               *(PACKAGE / "engine").glob("*.py"), *(PACKAGE / "capabilities").glob("*.py"),
               *(PACKAGE / "eval").glob("*.py"), *(PACKAGE / "ui").glob("*.py"),
               *(PACKAGE / "server").glob("*.py")]
    found = [hit for path in callers for hit in _calls_and_compares(path)]
    assert not found, found


# ---- layering ----

# Bottom up. A module may import its own layer and the layers below it, never one above; where it
# matters a package has a layer of its own, so "engine imports a family" or "a family imports eval"
# is an upward import here. Families are reached through the registry only (by name, a string).
LAYER_TABLE = (
    ("contract", "errors"),
    ("nn", "losses", "steps", "data", "images", "text", "seed", "device", "checkpoint"),
    ("families",),
    ("registry",),
    ("engine",),
    ("models",),
    ("eval",),
    ("capabilities",),
    ("api", "server"),
    ("ui", "cli", "tools", "__main__"),
)
LAYERS = {f"playground.{name}": rank for rank, names in enumerate(LAYER_TABLE) for name in names}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} has no layer: add its package to LAYER_TABLE")


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, function-level imports included."""
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module(f) for f in files}
    graph = {}
    for f in files:
        me = _module(f)
        pkg = me if f.name == "__init__.py" else me.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != me and not me.startswith(name + "."):
                    out.add(name)
        graph[me] = out
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(v, path):
        state[v] = "open"
        for w in sorted(graph.get(v, ())):
            if state.get(w) == "open":
                found.append(path[path.index(w):] + [w])
            elif w not in state:
                visit(w, path + [w])
        state[v] = "done"

    for v in sorted(graph):
        if v not in state:
            visit(v, [v])
    return found


def test_the_package_has_no_import_cycle():
    assert _cycles(import_graph()) == []


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [f"{a} -> {b}" for a, deps in graph.items() for b in deps
            if b != "playground" and _layer(b) > _layer(a)]


def family_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of one family's module from outside it (the registry imports them by name)."""
    return [f"{a} -> {b}" for a, deps in graph.items() for b in deps
            if b.startswith("playground.families.") and not a.startswith("playground.families.")]


def test_every_module_has_a_layer():
    for module in import_graph():
        if module != "playground":          # the package's __init__ imports nothing of it
            _layer(module)


def test_imports_point_down_the_layers():
    graph = import_graph()
    assert not upward_imports(graph), upward_imports(graph)
    assert not family_imports(graph), family_imports(graph)


def test_the_layer_checks_catch_what_they_claim():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    order = ["playground.contract", "playground.nn.conv", "playground.families.gan", "playground.registry",
             "playground.engine.trainer", "playground.models", "playground.eval.run", "playground.capabilities.style",
             "playground.api", "playground.ui.generate"]
    assert [_layer(m) for m in order] == sorted(_layer(m) for m in order) and len({_layer(m) for m in order}) == 10
    # the imports the contract floor removed: each one is caught, as an upward import or as an
    # import of a family's module from outside it (the protocol used to be families/protocol.py)
    upward = {"playground.engine.health": {"playground.eval.classifier"},
              "playground.families.tedigan": {"playground.registry", "playground.eval.classifier"},
              "playground.families.dcgan": {"playground.engine.steps"}}
    assert sorted(upward_imports(upward)) == sorted(f"{a} -> {b}" for a, bs in upward.items() for b in bs)
    into_families = {"playground.engine.context": {"playground.families.protocol"},
                     "playground.engine.trainer": {"playground.families.protocol"},
                     "playground.registry": {"playground.families.protocol"},
                     "playground.eval.mixing": {"playground.families.stylegan"}}
    assert len(family_imports(into_families)) == 4

"""Explicit tables: family name -> module, shipped model name -> checkpoint folder.

Nothing is discovered by scanning: adding a family or a shipped model means adding a line here,
and a duplicate name is an error at lookup time rather than a silent override. A family module
must define `FAMILY`, a `families.protocol.Family` whose name matches its line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from .errors import PlaygroundError
from .contract import Family

FAMILY_MODULES: tuple[tuple[str, str], ...] = (
    ("gan", "playground.families.gan"),
    ("dcgan", "playground.families.dcgan"),
    ("cgan", "playground.families.cgan"),
    ("wgan", "playground.families.wgan"),
    ("wgan-gp", "playground.families.wgan_gp"),
    ("infogan", "playground.families.infogan"),
    ("cyclegan", "playground.families.cyclegan"),
    ("srgan", "playground.families.srgan"),
    ("stylegan", "playground.families.stylegan"),
    ("sagan", "playground.families.sagan"),
    ("biggan", "playground.families.biggan"),
    ("progan", "playground.families.progan"),
    ("tedigan", "playground.families.tedigan"),
)

# name -> (checkpoint folder under checkpoints/, one-line description)
SHIPPED_MODELS: tuple[tuple[str, str, str], ...] = (
    ("cgan-mnist", "cgan-mnist", "Conditional GAN (conv), 4,500 offline MNIST digits"),
    ("cgan-fashion", "cgan-fashion", "Conditional GAN (conv), Fashion-MNIST"),
    ("dcgan-fashion", "dcgan-fashion", "DCGAN, Fashion-MNIST"),
    ("wgan-gp-fashion", "wgan-gp-fashion", "WGAN-GP (LayerNorm critic), Fashion-MNIST"),
    ("infogan-mnist", "infogan-mnist", "InfoGAN, unsupervised, 4,500 offline MNIST digits"),
    ("infogan-fashion", "infogan-fashion", "InfoGAN, semi-supervised (100 labels per class), Fashion-MNIST"),
    ("cyclegan-sneaker-boot", "cyclegan-sneaker-boot", "CycleGAN, Fashion-MNIST sneakers <-> ankle boots"),
    ("cyclegan-trouser-dress", "cyclegan-trouser-dress", "CycleGAN, Fashion-MNIST trousers <-> dresses"),
    ("srresnet-x4", "srresnet-x4", "SRResNet x4 (pixel loss), scikit-image photos"),
    ("srgan-x4", "srgan-x4", "SRGAN x4 (adversarial + D-feature content loss), scikit-image photos"),
    ("stylegan-fashion", "stylegan-fashion", "StyleGAN2-style, Fashion-MNIST padded to 32x32"),
    ("biggan-fashion", "biggan-fashion", "BigGAN (self-attention, projection D, truncation), Fashion-MNIST padded to 32x32"),
    ("progan-fashion", "progan-fashion", "ProGAN (grown 4x4 -> 32x32 with fade-in), Fashion-MNIST padded to 32x32"),
    ("tedigan-fashion", "tedigan-fashion", "TediGAN (text -> W, inversion, text-guided edits) on stylegan-fashion"),
)

CHECKPOINT_ROOT = Path(__file__).resolve().parent.parent / "checkpoints"


def _table(rows, what: str) -> dict:
    table = {}
    for row in rows:
        if row[0] in table:
            raise PlaygroundError(f"duplicate {what} name {row[0]!r} in the registry")
        table[row[0]] = row[1:]
    return table


def family_names() -> list[str]:
    return list(_table(FAMILY_MODULES, "family"))


def get_family(name: str) -> Family:
    """The family's protocol object (its module's FAMILY), checked against its registry line."""
    table = _table(FAMILY_MODULES, "family")
    if name not in table:
        raise PlaygroundError(f"unknown family {name!r}; choose from {', '.join(table)}")
    module = importlib.import_module(table[name][0])
    family = getattr(module, "FAMILY", None)
    if not isinstance(family, Family):
        raise PlaygroundError(f"family module {table[name][0]} defines no FAMILY = Family(...)")
    if family.name != name:
        raise PlaygroundError(f"family module {table[name][0]} calls itself {family.name!r}, registered as {name!r}")
    return family


def shipped_models() -> dict[str, tuple[Path, str]]:
    """name -> (checkpoint dir, description), for every shipped model whose files exist."""
    return {name: (CHECKPOINT_ROOT / folder, desc)
            for name, (folder, desc) in _table(SHIPPED_MODELS, "model").items()}


def resolve_model(name_or_path: str) -> Path:
    """A shipped model's name, or a path to a checkpoint directory (e.g. a run's --out)."""
    shipped = shipped_models()
    if name_or_path in shipped:
        path = shipped[name_or_path][0]
        if not (path / "config.json").is_file():
            raise PlaygroundError(f"shipped model {name_or_path!r} is registered but {path} is missing")
        return path
    path = Path(name_or_path)
    if (path / "config.json").is_file():
        return path
    raise PlaygroundError(
        f"unknown model {name_or_path!r}; shipped models: {', '.join(shipped)} (or pass a checkpoint folder)")

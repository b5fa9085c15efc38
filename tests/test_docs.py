"""Nothing stale in README.md and docs/: every family, tab, CLI subcommand and shipped model is named
where a reader looks for it, the generated tables match the code, every relative link resolves
inside the repository, and the README's gradio_client example runs against a served app with the
shapes it shows."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.cli import _parser
from playground.registry import family_names, shipped_models
from playground.tools.cards import readme_table
from playground.tools.docs import stale_blocks, subcommand_flags
from playground.ui.app import TABS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = ("families", "cli", "deployment", "evaluation", "performance", "architecture", "experiments")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_readme_is_a_short_guide_with_the_space_front_matter():
    text = _read(README)
    assert len(text.splitlines()) <= 250
    front = text.split("---")[1]
    assert "sdk: gradio" in front and "app_file: app.py" in front
    for page in PAGES:                                   # it links every docs page
        assert f"(docs/{page}.md)" in text, page
        assert (DOCS / f"{page}.md").is_file(), page


def test_every_family_tab_subcommand_and_model_is_named():
    readme, families, cli = _read(README), _read(DOCS / "families.md"), _read(DOCS / "cli.md")
    for name in family_names():
        assert name in readme.split("## Quickstart")[0].lower(), name           # in the first paragraph
        assert f"## `{name}`" in families, name                                 # a section of its own
    tabs = [title for title, _, _ in TABS] + ["Image GANs", "2-D GAN lab"]
    for title in tabs:
        assert f"**{title}**" in readme or f"→ {title}**" in readme, title      # the tour names every tab
    for command, flags in subcommand_flags(_parser()).items():
        assert f"### `{command}`" in cli, command
        section = cli.split(f"### `{command}`")[1].split("### ")[0]
        for flag in flags:
            assert f"`{flag}" in section or f", {flag}" in section, (command, flag)
    for name in shipped_models():
        assert f"[{name}](checkpoints/{name}/card.md)" in readme, name


def test_the_generated_tables_match_the_code():
    assert stale_blocks(_parser()) == [], "run `python -m playground card`"
    assert readme_table() in _read(README)


@pytest.mark.parametrize("page", ["README.md"] + [f"docs/{p}.md" for p in PAGES])
def test_every_relative_link_resolves_inside_the_repo(page):
    path = ROOT / page
    for target in LINK.findall(_read(path)):
        if re.match(r"[a-z]+://|mailto:|#", target):
            continue
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), (page, target)
        assert resolved.exists(), (page, target)


def test_the_lab_notebook_is_dated_and_speaks_of_findings_not_of_the_tracker():
    text = _read(DOCS / "experiments.md")
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings and all(re.match(r"\d{4}-\d\d-\d\d · ", h) for h in headings), headings
    assert not re.search(r"\b(sessions?|lent)\b", text, re.I)                  # not who ran it, or where
    for page in ("README.md", *(f"docs/{p}.md" for p in PAGES)):
        assert not re.search(r"(?<![\w/&])#\d+\b", _read(ROOT / page)), page     # no issue numbers


def _example() -> str:
    block = _read(README).split("## Scripting with `gradio_client`")[1]
    return re.search(r"```python\n(.*?)```", block, re.S).group(1)


def test_the_gradio_client_example_runs_with_the_shapes_it_shows(app_client):
    url = app_client.src
    code = _example().replace('"http://127.0.0.1:7860/"', repr(url))
    assert code != _example(), "the example's URL is not the one this test replaces"
    scope: dict = {}
    exec(compile(code, "README.md (gradio_client example)", "exec"), scope)
    grid = np.asarray(Image.open(scope["grid_png"]))
    assert grid.shape[0] > 10 * 28 and grid.shape[1] > 8 * 28                  # one row of 8 per class
    for name in ("shown", "translated", "reconstructed"):
        assert Image.open(scope[name]).size[0] >= 28, name
    assert isinstance(scope["note"], str)
    assert isinstance(scope["progress_md"], str) and scope["progress_md"]
    # the plots and the PNG come as values, or as Gradio's "unchanged" update between polls
    for name in ("loss_plot", "growth_plot", "samples_png"):
        value = scope[name]
        assert value is None or isinstance(value, (str, dict)), (name, value)
        if isinstance(value, dict) and value.get("__type__") == "update":
            continue
        if name == "samples_png" and value is not None:
            assert Path(value).is_file()

"""The generated parts of docs/: the CLI reference (from the argument parser), each family's
settings table (from its Config schema) and the metric table (from the metric registry), so that
none of them can fall behind the code.

Each part sits between two marker comments in its page, `<!-- NAME:start -->` and
`<!-- NAME:end -->`; `python -m playground card` rewrites them and `tests/test_docs.py` checks
that they are current.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..capabilities.metrics import METRICS
from ..contract.settings import settings_table
from ..registry import CHECKPOINT_ROOT, family_names, get_family

DOCS = CHECKPOINT_ROOT.parent / "docs"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """name -> (one-line help, its parser), in the order `--help` lists them."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    return {name: (helps.get(name, ""), p) for name, p in sub.choices.items()}


def subcommand_flags(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """name -> its option strings (`--steps`, ...), for the staleness test."""
    return {name: [s for a in p._actions if not isinstance(a, argparse._HelpAction) for s in a.option_strings]
            for name, (_, p) in _subcommands(parser).items()}


def _argument_row(a: argparse.Action) -> str:
    if a.option_strings:
        name = ", ".join(a.option_strings) + (f" {a.metavar}" if a.metavar else "")
    else:
        name = a.dest.upper() + (" ..." if a.nargs in ("*", "+") else "")
    what = a.help or ""
    if a.choices:
        what += f" (one of {', '.join(map(str, a.choices))})"
    if a.option_strings and a.default not in (None, False, "", [], argparse.SUPPRESS):
        what += f" (default {a.default})"
    if a.required and a.option_strings:
        what += " (required)"
    return f"| `{name}` | {_cell(what.strip())} |"


def cli_reference(parser: argparse.ArgumentParser) -> str:
    """Markdown: one section per subcommand with a table of its arguments."""
    out = []
    for name, (help_text, p) in _subcommands(parser).items():
        out += [f"### `{name}`", "", f"{help_text}.", ""]
        rows = [_argument_row(a) for a in p._actions if not isinstance(a, argparse._HelpAction)]
        if rows:
            out += ["| argument | what it does |", "|---|---|", *rows, ""]
    return "\n".join(out).rstrip()


def settings_reference(family: str) -> str:
    """Markdown table of a family's `--set` settings: name, default, allowed values, what it does."""
    rows = ["| setting | default | allowed | group | what it does |", "|---|---|---|---|---|"]
    for r in settings_table(get_family(family)):
        default = repr(r["default"]) if isinstance(r["default"], str) else r["default"]
        rows.append(f"| `{r['name']}` | `{default}` | {_cell(r['bounds'] or 'any')} | {r['group']} "
                    f"| {_cell(r['help'] or r['label'])} |")
    return "\n".join(rows)


def metrics_reference() -> str:
    """Markdown table of the registered metrics: name, what it measures, which way is better, kinds."""
    rows = ["| metric | what it measures | better | model kinds |", "|---|---|---|---|"]
    for m in METRICS:
        kinds = ", ".join(sorted(k.value for k in m.kinds))
        rows.append(f"| `{m.name}` | {_cell(m.summary)} | {m.better or '-'} | {kinds} |")
    return "\n".join(rows)


def blocks(parser: argparse.ArgumentParser) -> dict[Path, dict[str, str]]:
    """page -> {marker name: generated markdown}."""
    return {DOCS / "cli.md": {"cli-reference": cli_reference(parser)},
            DOCS / "families.md": {f"settings:{f}": settings_reference(f) for f in family_names()},
            DOCS / "evaluation.md": {"metrics": metrics_reference()}}


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def stale_blocks(parser: argparse.ArgumentParser) -> list[str]:
    """'page: marker' for every generated part that is missing or differs from the code's."""
    out = []
    for page, parts in blocks(parser).items():
        text = page.read_text() if page.is_file() else ""
        for name, body in parts.items():
            start, end = _markers(name)
            if f"{start}\n{body}\n{end}" not in text:
                out.append(f"{page.name}: {name}")
    return out


def write_docs(parser: argparse.ArgumentParser) -> list[Path]:
    """Rewrite every generated part in place; a page must already hold both markers of each part."""
    written = []
    for page, parts in blocks(parser).items():
        text = page.read_text()
        for name, body in parts.items():
            start, end = _markers(name)
            pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
            if not pattern.search(text):
                raise ValueError(f"{page.name} has no {start} ... {end} block")
            text = pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)
        page.write_text(text)
        written.append(page)
    return written

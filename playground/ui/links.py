"""Links that reopen a view: `?tab=generate&model=cgan-fashion&class=3: Dress&n=4&seed=7`.

A tab that supports them returns a `LinkSpec` from its build: its key (the `tab` value and its
gr.Tab id), the controls a link carries (query name -> component), the outputs it fills, and
`restore(params, owner)`, which returns new values for those controls and outputs, computed by the
tab's own handlers. The app reads the page's query on load (`restore_on_load`); each such tab has a
"Link to this view" button that builds the link in the browser (from the controls' current values
and the page's own address, so it works behind a Space's or a share link's proxy) and copies it.

Query values are hostile input: each is length-capped, parsed and checked by the same code as the
tab's controls; a bad link shows a warning and leaves the default view.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..errors import PlaygroundError
from .common import owner_of

MAX_PARAM = 200       # characters per query value


@dataclass
class LinkSpec:
    key: str
    controls: dict[str, gr.components.Component]
    outputs: list
    restore: Callable[[dict[str, str], str], list]   # (query, owner) -> values for controls + outputs


def number(params: dict, name: str, default: float, lo: float, hi: float, integer: bool = False) -> float:
    """A numeric query value within [lo, hi] (the control's own range)."""
    if name not in params:
        return default
    try:
        x = float(params[name])
    except ValueError:
        raise PlaygroundError(f"{name} must be a number, got {params[name]!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise PlaygroundError(f"{name} must be between {lo} and {hi}, got {params[name]!r}")
    return int(x) if integer else x


def choice(params: dict, name: str, choices: list, default=None):
    """A query value that must be one of the control's choices (values, or (label, value) pairs)."""
    values = [c[1] if isinstance(c, (tuple, list)) else c for c in choices]
    if not values:                     # a control with nothing to choose (an unconditional model's class)
        return None
    if name not in params:
        return default if default is not None else (values[0] if values else None)
    if params[name] not in values:
        raise PlaygroundError(f"{name} {params[name]!r} is not one of the choices here")
    return params[name]


def model_choice(ctx, kinds, params: dict, owner: str, default: str) -> tuple[list, str]:
    """(the visitor's model list, the linked model), refusing models this visitor may not use."""
    choices = ctx.model_choices(kinds, owner)
    name = choice(params, "model", choices, default)
    ctx.check_access(name, owner)
    return choices, name


def link_button(key: str, controls: dict[str, gr.components.Component]) -> None:
    """A button that writes (and copies) the link to this tab's current view."""
    names = json.dumps(list(controls))
    js = f"""(...v) => {{
        const p = new URLSearchParams({{tab: {json.dumps(key)}}});
        {names}.forEach((n, i) => p.set(n, Array.isArray(v[i]) ? v[i].join(',') : String(v[i] ?? '')));
        const url = window.location.origin + window.location.pathname + '?' + p.toString();
        if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {{}});
        return url;
    }}"""
    with gr.Row():
        button = gr.Button("🔗 Link to this view", size="sm", scale=0, elem_id=f"{key}-link-go")
        box = gr.Textbox(label="Link (copied to the clipboard)", interactive=False, buttons=["copy"],
                         elem_id=f"{key}-link", scale=4)
    button.click(None, list(controls.values()), box, js=js)


def restore_on_load(demo: gr.Blocks, tabs: gr.Tabs, specs: list[LinkSpec], before: Callable[[], None],
                    tab_keys: tuple[str, ...] = ()) -> None:
    """Read the page's query on load; `before()` runs first in the request's thread (thread pinning).
    A `tab` of `tab_keys` without a LinkSpec just opens that tab."""
    by_key = {s.key: s for s in specs}
    targets = [c for s in specs for c in [*s.controls.values(), *s.outputs]]

    def on_load(request: gr.Request):
        params = {k: str(v)[:MAX_PARAM] for k, v in (request.query_params if request else {}).items()}
        updates = [gr.skip()] * (1 + len(targets))
        spec = by_key.get(params.get("tab", ""))
        if spec is None:
            if params.get("tab") in tab_keys:
                updates[0] = gr.Tabs(selected=params["tab"])
            return updates
        before()
        try:
            values = spec.restore(params, owner_of(request))
        except (PlaygroundError, gr.Error) as e:
            gr.Warning(f"This link could not be opened: {getattr(e, 'message', None) or e}")
            return updates
        start = 1 + targets.index(next(iter(spec.controls.values())))
        updates[0] = gr.Tabs(selected=spec.key)
        updates[start:start + len(values)] = values
        return updates

    demo.load(on_load, None, [tabs, *targets], api_visibility="private", show_progress="hidden")

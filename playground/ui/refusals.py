"""Refusals a visitor can read, and a server log that reads them in one line.

Three places refuse a request: a handler (a PlaygroundError, turned into a Gradio error by
`common.user_errors`), a component's own input processing (Gradio's checks of a choice or a
number, a conversion that fails), and an image upload that is not an image. All three end here:
`refusal` logs one line (where, what) and gives Gradio an error it shows and does not print a
traceback for. A real crash (anything else) still reaches Gradio, which logs its traceback.

`check_inputs(demo)` puts every input component's processing behind that: its failures become
refusals naming the control, and image uploads reach the handler unopened, so that the project's
header-checked reader (images/reading.py) is what reads them, with its messages (not an image,
truncated, too large, converted from 16-bit ...), instead of Gradio decoding them first.
"""

from __future__ import annotations

import logging
import re

import gradio as gr

LOG = logging.getLogger("playground.refused")
MAX_MESSAGE = 400        # a refusal that echoes a 100k-character value is cut here


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " …"


def refusal(message: str, where: str) -> gr.Error:
    """The error to raise for a refused request: shown to the visitor, logged as one line."""
    message = _short(message)
    LOG.warning("refused %s: %s", where, message)
    return gr.Error(message, print_exception=False)


def _name(block) -> str:
    return getattr(block, "label", None) or getattr(block, "elem_id", None) or type(block).__name__


_UNSEEN = object()


def _reason(block, payload=_UNSEEN) -> str:
    """Why a value could not be used, in words, for a conversion that raised."""
    shown = "an unusable value" if payload is _UNSEEN else _short(repr(payload))[:80]
    if isinstance(block, (gr.Number, gr.Slider)):
        return f"must be a number, got {shown}"
    if isinstance(block, gr.Checkbox):
        return f"must be true or false, got {shown}"
    if isinstance(block, gr.Image):
        return "must be an image file this app can read (png, jpeg, bmp, gif, webp, tiff)"
    if isinstance(block, gr.File):
        return "expects an uploaded file"
    return f"cannot use the value {shown}"


def _raw_upload(block) -> bool:
    """An image input the handler reads itself (a path): Gradio need not open it."""
    return isinstance(block, gr.Image) and block.type == "filepath" and block.image_mode is None


def _needs_a_choice(block) -> bool:
    """A control whose handler needs one of its choices: nothing (None) is not one."""
    if isinstance(block, gr.Dropdown):
        return not block.multiselect
    return isinstance(block, (gr.Radio, gr.CheckboxGroup))


def _checked(block) -> None:
    process = block.preprocess
    name = _name(block)

    def preprocess(payload):
        if payload is None and _needs_a_choice(block):
            raise refusal(f"{name}: choose one of its values (got nothing)", name)
        if _raw_upload(block):
            return None if payload is None else str(payload.path)
        try:
            return process(payload)
        except gr.Error as e:                     # Gradio's own check (a choice, a range): its words
            raise refusal(f"{name}: {e.message}", name) from None
        except (TypeError, ValueError, AttributeError, OverflowError, OSError) as e:   # a failed conversion
            raise refusal(f"{name} {_reason(block, payload)}", name) from e

    block.preprocess = preprocess


def _checked_request(demo: gr.Blocks) -> None:
    """The same rule for what fails outside a wrapped component: Gradio's checks on a component
    that a handler's update replaced in the session, a file input given a plain string instead of
    an upload, a value of the wrong shape. Each becomes a refusal naming the control if known."""
    prepare = demo.preprocess_data
    index = re.compile(r"input component at index (\d+)")

    async def preprocess_data(block_fn, *args, **kwargs):
        where = str(block_fn.api_name or block_fn.name)
        try:
            return await prepare(block_fn, *args, **kwargs)
        except gr.Error as e:
            if not e.print_exception:                 # already a refusal (logged)
                raise
            raise refusal(e.message, where) from None
        except Exception as e:
            found = index.search(str(e))
            if found and int(found.group(1)) < len(block_fn.inputs):
                block = block_fn.inputs[int(found.group(1))]
                raise refusal(f"{_name(block)} {_reason(block)}", where) from None
            raise refusal("an input is not a value this app can read: files must be uploaded "
                          "(gradio_client: handle_file(path)), and each value must have the type "
                          "the API description gives", where) from None

    demo.preprocess_data = preprocess_data


def check_inputs(demo: gr.Blocks) -> None:
    """Every component that is some event's input refuses what it cannot process, in words."""
    inputs = {block._id for fn in demo.fns.values() for block in fn.inputs}
    for block_id, block in demo.blocks.items():
        if block_id in inputs and isinstance(block, gr.components.Component):
            _checked(block)
    _checked_request(demo)

"""One exception type for every user-facing failure.

The CLI turns a `PlaygroundError` into a one-line message and exit code 2; the app turns it into a
Gradio error toast. Anything else is a bug and keeps its traceback.
"""


class PlaygroundError(Exception):
    """A problem with the user's input or environment, explained in one line."""

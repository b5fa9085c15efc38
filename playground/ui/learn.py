"""The Learn tab: one lesson per idea of the notes, each with its formula and a one-click experiment.

The lessons themselves (idea, claim, experiment) live in capabilities/lessons.py; this tab lays
them out. Each experiment is an event `lesson_<name>` and draws its picture with the same code as
the other tabs (a 2-D lab frame goes through the lab's renderer).
"""

from __future__ import annotations

import gradio as gr

from .. import api
from . import lab
from .common import for_display, user_errors

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def api_name(name: str) -> str:
    return "lesson_" + name.replace("-", "_")


def further_link(lesson: dict) -> str:
    """'Go further: [what to try](?tab=...)': a view link into the tab the lesson points to."""
    query, _, text = lesson["further"].partition(": ")
    return f"**Go further:** [{text}]({query})"


def pointer(tab: str) -> str:
    """The one-line 'what is happening here' pointer a tab shows: its lessons in the Learn tab."""
    titles = [lesson["title"] for lesson in api.list_lessons() if lesson["tab"] == tab]
    return ("*What is happening here:* " + "; ".join(titles) + " (the **Learn** tab explains, with an experiment).") \
        if titles else ""


def picture(outcome):
    """An Outcome's picture: its image grid, or its last 2-D lab frame drawn by the lab's renderer."""
    if outcome.image is not None:
        return outcome.image
    return lab.render(outcome.frames[-1]) if outcome.frames else None


def show(outcome) -> tuple:
    """(picture, Markdown of the measured figures and the verdict) for an Outcome."""
    rows = "\n".join(f"| {k} | {round(v, 4) if isinstance(v, float) else v} |" for k, v in outcome.figures.items())
    holds = "✅ the claim holds in this run" if outcome.holds else "⚠️ the claim does not hold in this run"
    image = picture(outcome)
    return (None if image is None else for_display(image)), f"{outcome.verdict}\n\n| measured | value |\n|---|---|\n{rows}\n\n{holds}"


def _runner(ctx, name: str):
    def run_experiment():
        ctx.pin_threads()
        return show(api.run_lesson(name))

    run_experiment.__name__ = api_name(name)
    return user_errors(run_experiment)


def build(ctx) -> None:
    gr.Markdown("Each lesson is one idea from the notes: what it says, its formula, and an experiment "
                "that shows it happening with this project's own models and training code, measured on "
                "the spot (a few seconds each). *Go further* opens the tab where you can push it.")
    for i, lesson in enumerate(api.list_lessons()):
        with gr.Accordion(f"{i + 1}. {lesson['title']}", open=i == 0, elem_id=f"learn-{lesson['name']}"):
            gr.Markdown(lesson["idea"], latex_delimiters=LATEX, elem_id=f"learn-idea-{lesson['name']}")
            gr.Markdown(f"**The experiment shows:** {lesson['claim']}.\n\n{further_link(lesson)}")
            go = gr.Button("Run the experiment", variant="primary", elem_id=f"learn-go-{lesson['name']}")
            with gr.Row():
                image = gr.Image(label="what happened", format="png", interactive=False,
                                   elem_id=f"learn-image-{lesson['name']}")
                figures = gr.Markdown(elem_id=f"learn-figures-{lesson['name']}")
            go.click(_runner(ctx, lesson["name"]), None, [image, figures], api_name=api_name(lesson["name"]))

"""The Learn tab's lessons: every experiment runs through gradio_client, answers quickly, and its
measured figures point the way its lesson says; the CLI lists and runs them; each lesson's
"go further" link is a view link the app opens."""

from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from playground import api
from playground.cli import main
from playground.ui.learn import api_name


def _f(outcome, key):
    return outcome.figures[key]


# lesson -> what its figures must show (the claim, measured)
CLAIMS = {
    "vanishing-gradients": lambda o: _f(o, "D accuracy on fakes") >= 0.9
    and _f(o, "G gradient, minimax") < _f(o, "G gradient, non-saturating"),
    "mode-collapse": lambda o: _f(o, "modes covered") < _f(o, "modes"),
    "lipschitz": lambda o: abs(_f(o, "‖∇D‖, gradient penalty") - 1) < abs(_f(o, "‖∇D‖, clipping") - 1)
    and _f(o, "clipped weights at ±c") > 0.1,
    "mutual-information": lambda o: _f(o, "code accuracy") > 0.5 > _f(o, "chance"),
    "progressive-growing": lambda o: _f(o, "first resolution") == 4 and _f(o, "last resolution") == 32
    and _f(o, "alpha at the start of a fade") < 1 == _f(o, "alpha at its end"),
    "style-mixing": lambda o: _f(o, "coarse from A: A's class") > _f(o, "fine from A: A's class"),
    "truncation": lambda o: _f(o, "feature spread within a class, threshold 0.3")
    < _f(o, "feature spread within a class, threshold 2.0")
    and _f(o, "class accuracy, threshold 0.3") >= _f(o, "class accuracy, threshold 2.0"),
    "cycle-consistency": lambda o: _f(o, "mean |F(G(x)) − x|") < _f(o, "mean |G(x) − x|"),
    "perceptual-loss": lambda o: _f(o, "PSNR, srresnet-x4 (dB)") > _f(o, "PSNR, srgan-x4 (dB)")
    and _f(o, "edge energy, srgan-x4") > _f(o, "edge energy, srresnet-x4"),
    "what-fid-sees": lambda o: _f(o, "test set without 3s") > _f(o, "held-out test set")
    > _f(o, "500 copied training images"),
}


def test_there_is_a_lesson_for_each_idea_with_a_formula_and_a_claim():
    lessons = api.list_lessons()
    assert len(lessons) >= 10 and set(CLAIMS) == {lesson["name"] for lesson in lessons}
    for lesson in lessons:
        assert "$" in lesson["idea"] and lesson["claim"], lesson["name"]   # a formula, and what it shows


@pytest.mark.parametrize("name", list(CLAIMS))
def test_each_experiment_runs_through_the_api_and_shows_its_idea(app_client, name):
    picture, text = app_client.predict(api_name="/" + api_name(name))
    assert "the claim holds" in text and "does not hold" not in text, text
    assert Image.open(picture).size[0] >= 100                            # a picture of what happened
    outcome = api.run_lesson(name)                                       # the same experiment, its figures
    assert outcome.holds and CLAIMS[name](outcome), outcome.figures
    for value in outcome.figures.values():
        assert str(round(value, 4) if isinstance(value, float) else value) in text   # the tab shows them


def test_each_lesson_links_into_a_tab_that_opens_from_a_link():
    from playground.ui.app import TABS

    keys = {key for _, key, _ in TABS}
    for lesson in api.list_lessons():
        query = parse_qs(urlsplit(lesson["further"].partition(": ")[0]).query)
        assert query["tab"] == [lesson["tab"]] and lesson["tab"] in keys, lesson["name"]


def test_the_cli_lists_and_runs_the_lessons(capsys, tmp_path):
    assert main(["lessons"]) == 0
    listed = capsys.readouterr().out
    assert all(lesson["name"] in listed for lesson in api.list_lessons())
    out = tmp_path / "cycle.png"
    assert main(["lessons", "run", "cycle-consistency", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mean |F(G(x)) − x|:" in printed and "the lesson's claim holds" in printed and out.is_file()
    assert main(["lessons", "run", "no-such-lesson"]) == 2
    assert "no lesson 'no-such-lesson'" in capsys.readouterr().err


def test_every_tab_a_lesson_is_about_points_to_it():
    from playground.ui.app import TABS
    from playground.ui.learn import pointer

    about = {lesson["tab"] for lesson in api.list_lessons()}
    for _, key, _ in TABS:
        if key in about:
            assert "What is happening here" in pointer(key) and "Learn" in pointer(key), key
    assert {"generate", "infogan", "stylemix", "translate", "superres", "train", "evaluate"} <= about

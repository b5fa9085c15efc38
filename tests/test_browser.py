"""A real headless Chromium (Debian's) driven by Playwright: open the app, generate, see it change."""

import hashlib

import pytest
from playwright.sync_api import expect, sync_playwright

from test_app import server  # noqa: F401  (the live-server fixture)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(server):  # noqa: F811
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.goto(server, wait_until="load")   # not networkidle: the Train tab's timer polls every second
        pg.locator("#gen-go").wait_for(timeout=30000)
        yield pg
        browser.close()


def image_digest(page, elem_id: str, previous: str | None = None, timeout_ms: int = 20000) -> str:
    """Wait until #elem_id shows an image (different from `previous`); return a hash of its bytes."""
    sel = f"#{elem_id} img"
    page.wait_for_function(
        """([sel, prev]) => { const i = document.querySelector(sel);
             return i && i.complete && i.naturalWidth > 0 && i.src !== prev; }""",
        arg=[sel, previous or ""], timeout=timeout_ms)
    src = page.eval_on_selector(sel, "i => i.src")
    return src


def test_generate_a_class_and_see_the_image_change(page):
    page.get_by_role("tab", name="Conditional generation").click()
    initial = image_digest(page, "gen-grid")          # the tab opens with a picture (first_look)
    page.locator("#gen-go").click()
    # wait for this click's answer: it is a new file, even when it shows what the opening one did;
    # reading on from the opening picture let a slow answer arrive after the next click's setup
    first = image_digest(page, "gen-grid", previous=initial)
    body = page.request.get(first).body()
    assert body[:8] == b"\x89PNG\r\n\x1a\n"  # PNG, not WebP

    # pick one class, a new seed: the picture must change
    page.locator("#gen-class input").click()
    page.get_by_role("option", name="7: 7").click()
    expect(page.locator("#gen-class input")).to_have_value("7: 7")
    seed = page.locator("#gen-seed input")
    seed.fill("1234")
    seed.press("Tab")
    expect(seed).to_have_value("1234")
    page.locator("#gen-go").click()
    second = image_digest(page, "gen-grid", previous=first)
    assert hashlib.sha1(page.request.get(second).body()).digest() != hashlib.sha1(body).digest()


def test_infogan_slider_changes_the_image(page):
    page.get_by_role("tab", name="InfoGAN codes").click()
    slider = page.locator("#ig-c1 input[type=range]")
    slider.wait_for()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.click(box["x"] + box["width"] * 0.2, y)        # move to about -1.2, released
    first = image_digest(page, "ig-image")
    page.mouse.click(box["x"] + box["width"] * 0.9, y)        # about +1.6
    second = image_digest(page, "ig-image", previous=first)
    assert page.request.get(first).body() != page.request.get(second).body()


def test_style_mixing_crossover_changes_the_grid(page):
    page.get_by_role("tab", name="Style mixing").click()
    first = image_digest(page, "sm-grid")
    page.locator("#sm-crossover").get_by_text("fine", exact=True).click()
    second = image_digest(page, "sm-grid", previous=first)
    assert page.request.get(first).body() != page.request.get(second).body()
    page.locator("#sm-walk-go").click()
    walk = image_digest(page, "sm-walk")
    assert page.request.get(walk).body()[:6] == b"GIF89a"


def test_train_tab_streams_plot_and_grid(page, tmp_path_factory):
    page.get_by_role("tab", name="Train", exact=True).click()
    page.get_by_role("tab", name="Image GANs").click()
    page.locator("#tr-start").click()
    page.wait_for_function("() => document.querySelector('#tr-progress').innerText.includes('running')",
                           timeout=30000)
    image_digest(page, "tr-grid", timeout_ms=60000)            # a sample grid arrived
    page.wait_for_function(  # the loss plot drew marks
        "() => { const p = document.querySelector('#tr-plot'); return p && p.querySelector('canvas, svg path'); }",
        timeout=30000)
    step1 = page.locator("#tr-progress").inner_text()
    page.wait_for_function(f"() => document.querySelector('#tr-progress').innerText !== {step1!r}", timeout=30000)
    page.locator("#tr-stop").click()
    page.wait_for_function("() => document.querySelector('#tr-progress').innerText.includes('stopped')",
                           timeout=60000)
    page.wait_for_timeout(1500)
    # the loss plot's legend names each series, and no clipping box (an ancestor with overflow
    # other than visible) cuts its labels off
    visible = page.evaluate("""() => [...document.querySelectorAll('#tr-plot svg text')]
        .filter(t => ['D/loss', 'G/loss'].includes(t.textContent))
        .map(t => { const r = t.getBoundingClientRect();
                    for (let a = t.parentElement; a; a = a.parentElement) {
                      if (getComputedStyle(a).overflow === 'visible') continue;
                      const b = a.getBoundingClientRect();
                      if (r.top < b.top || r.bottom > b.bottom || r.left < b.left || r.right > b.right) return false; }
                    return r.height > 0; })""")
    assert visible == [True, True], visible
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(_shots_dir(tmp_path_factory) / "train.png"))


def test_translation_upload(page, tmp_path):
    import numpy as np
    from PIL import Image

    img = np.zeros((64, 48, 3), np.uint8)
    img[10:50, 8:40] = 220
    Image.fromarray(img).save(tmp_path / "upload.png")
    page.get_by_role("tab", name="Domain translation").click()
    page.locator("#tl-upload input[type=file]").set_input_files(str(tmp_path / "upload.png"))
    image_digest(page, "tl-translated", timeout_ms=30000)
    page.wait_for_function("() => document.querySelector('#tl-note').innerText.includes('resized')", timeout=30000)
    assert "resized" in page.locator("#tl-note").inner_text()


def test_super_resolution_upload(page, tmp_path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((32, 40, 3)) * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    page.get_by_role("tab", name="Super-resolution").click()
    page.locator("#sr-input input[type=file]").set_input_files(str(tmp_path / "photo.png"))
    page.wait_for_timeout(500)
    page.locator("#sr-go").click()
    page.wait_for_function("() => document.querySelector('#sr-note').innerText.includes('output 160x128')",
                           timeout=60000)
    assert page.locator("#sr-gallery img").count() >= 2


def test_text_prompt_then_edit(page):
    page.get_by_role("tab", name="Text", exact=True).click()
    first = image_digest(page, "tx-samples", timeout_ms=60000)          # the first prompt, on opening
    page.locator("#tx-prompt textarea").fill("a pale summer dress")
    page.locator("#tx-go").click()
    second = image_digest(page, "tx-samples", previous=first, timeout_ms=60000)
    assert page.request.get(first).body() != page.request.get(second).body()
    assert "a pale summer dress" in page.locator("#tx-note").inner_text()
    page.locator("#tx-edit").click()
    image_digest(page, "tx-after", timeout_ms=60000)
    page.wait_for_function("() => document.querySelector('#tx-edit-note').innerText.includes('score')",
                           timeout=60000)


TABS = [("Conditional generation", "gen-grid"), ("Learn", "learn-idea-vanishing-gradients"), ("InfoGAN codes", "ig-image"), ("Style mixing", "sm-grid"),
        ("Domain translation", "tl-translated"), ("Super-resolution", "sr-gallery"), ("Text", "tx-samples"),
        ("Evaluate", "ev-table"),
        ("2-D GAN lab", "lab-view")]


def _shots_dir(tmp_path_factory):
    """PLAYGROUND_SCREENSHOTS=1 refreshes README's pictures in docs/screenshots; otherwise a temp dir."""
    import os
    from pathlib import Path

    if os.environ.get("PLAYGROUND_SCREENSHOTS") == "1":
        out = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("screens")


def test_every_tab_shows_a_result_on_opening(server, page, tmp_path_factory):  # noqa: F811
    """A fresh page, no clicks but the tab itself: each tab already shows its picture or table."""
    shots = _shots_dir(tmp_path_factory)
    pg = page.context.browser.new_page(viewport={"width": 1280, "height": 900})
    pg.goto(server, wait_until="load")
    try:
        for name, elem_id in TABS:
            if elem_id == "lab-view":   # a sub-tab of Train
                pg.get_by_role("tab", name="Train", exact=True).click()
            pg.get_by_role("tab", name=name, exact=True).click()
            if elem_id.startswith("learn-idea"):      # the formula is rendered (KaTeX), not left as $...$
                pg.wait_for_function(f"() => document.querySelectorAll('#{elem_id} .katex').length > 3",
                                     timeout=20000)
            elif elem_id == "ev-table":
                pg.wait_for_function("() => document.querySelectorAll('#ev-table td').length > 3", timeout=20000)
            else:
                pg.wait_for_function(
                    f"() => {{ const i = document.querySelector('#{elem_id} img'); "
                    "return i && i.complete && i.naturalWidth > 0; }", timeout=60000)
            pg.wait_for_timeout(400)
            slug = name.lower().replace(" ", "-")
            pg.screenshot(path=str(shots / f"{slug}.png"))
            assert (shots / f"{slug}.png").stat().st_size > 10_000
    finally:
        pg.close()


def _pixels(page, src: str):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB"))


def _same_image_as(page, elem_id: str, want, timeout_ms: int = 30000):
    """Wait until #elem_id shows exactly the pixels `want` (links restore, then compute)."""
    import numpy as np
    import time

    deadline, src = time.time() + timeout_ms / 1000, None
    while time.time() < deadline:
        src = image_digest(page, elem_id, timeout_ms=timeout_ms)
        got = _pixels(page, src)
        if got.shape == want.shape and np.array_equal(got, want):
            return src
        page.wait_for_timeout(300)
    raise AssertionError(f"#{elem_id} never showed the linked image (last: {src})")


def test_a_link_reopens_the_view_and_the_link_button_makes_one(page, server):  # noqa: F811
    """A link with the controls in its query opens on the Conditional tab with those controls and
    the very image the API draws for them; the tab's own "Link to this view" button writes such a link."""
    from urllib.parse import urlencode

    import numpy as np
    from gradio_client import Client
    from PIL import Image

    params = {"tab": "generate", "model": "cgan-fashion", "class": "3: Dress", "n": "4", "seed": "77"}
    client = Client(server, verbose=False)
    client.predict("cgan-fashion", api_name="/model_classes")        # this session's class list: Fashion's
    want = np.asarray(Image.open(client.predict("cgan-fashion", "3: Dress", 4, 77, 0.0, api_name="/generate"))
                      .convert("RGB"))
    browser = page.context.browser
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    linked = context.new_page()
    linked.goto(server + "?" + urlencode(params), wait_until="load")
    _same_image_as(linked, "gen-grid", want)
    assert linked.locator("#gen-seed input").input_value() == "77"
    linked.locator("#generate-link-go").click()
    linked.wait_for_function("() => document.querySelector('#generate-link textarea').value.includes('seed=77')",
                             timeout=10000)
    url = linked.locator("#generate-link textarea").input_value()
    assert url.startswith(server.rstrip("/")) and "tab=generate" in url and "model=cgan-fashion" in url
    again = context.new_page()
    again.goto(url, wait_until="load")
    _same_image_as(again, "gen-grid", want)
    # another tab's link: style mixing with the fine layers from A
    mix = np.asarray(Image.open(client.predict("stylegan-fashion", "3,4", "10", "fine", 0, 3, 1.0, "on (fixed maps)",
                                               api_name="/style_mix")).convert("RGB"))
    again.goto(server + "?" + urlencode({"tab": "stylemix", "model": "stylegan-fashion", "rows": "3,4",
                                         "cols": "10", "crossover": "fine"}), wait_until="load")
    _same_image_as(again, "sm-grid", mix)
    # a hostile link: a warning, and the page keeps its default view
    again.goto(server + "?" + urlencode({"tab": "generate", "model": "../../etc", "n": "1e9"}), wait_until="load")
    again.wait_for_function("() => document.body.innerText.includes('This link could not be opened')", timeout=20000)
    image_digest(again, "gen-grid")
    # a lesson's "go further" link: the Train tab's 2-D lab, opened with the lesson's loss and data
    again.goto(server + "?tab=train&lab_loss=minimax&lab_data=grid", wait_until="load")
    again.wait_for_function("() => document.querySelector('#lab-loss input') && "
                            "document.querySelector('#lab-loss input').value === 'minimax' && "
                            "document.querySelector('#lab-data input').value === 'grid'", timeout=20000)
    context.close()

"""A real browser on the app a new visitor gets (the things model by default): Playwright drives
Debian's Chromium, draws things that are not digits with the mouse and checks what they read as;
then switches the page to the digits model and back. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re
import time

import pytest

from test_app_e2e import launch_app, stop_app
from test_browser import ARTIFACTS, CHROMIUM, draw
from textanchor.demo.assets import THING_STROKES
from textanchor.demo.policy import THINGS_CHECKPOINT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (THINGS_CHECKPOINT / "config.json").is_file(), reason=f"no things model at {THINGS_CHECKPOINT}"),
    pytest.mark.skipif(not CHROMIUM or not __import__("pathlib").Path(CHROMIUM).is_file(),
                       reason="Chromium not found at /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    proc, url, _ = launch_app(None, tmp_path_factory.mktemp("browser-things"))  # no --checkpoint: the default
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
            pg = browser.new_page(viewport={"width": 1400, "height": 1100})
            pg.goto(url)
            pg.wait_for_selector("#sketch canvas", timeout=60_000)
            yield pg
            browser.close()
    finally:
        stop_app(proc)


def _answer(page) -> str:
    page.wait_for_function("(() => { const t = document.querySelector('#search-status').innerText;"
                           " return t.includes('reads as') || t.includes('⚠'); })()", timeout=60_000)
    return page.locator("#search-status").inner_text()


@pytest.mark.parametrize("thing", ["house", "star"])
def test_draw_a_thing_and_get_its_class(page, thing):
    assert "Draw a thing" in page.locator("#sketch").inner_text()  # the things model's own labels
    page.locator("#clear").click()
    page.wait_for_function("document.querySelector('#search-status').innerText.includes('Draw, record')")
    draw(page, THING_STROKES[thing])
    time.sleep(0.3)
    page.locator("#search-sketch").click()
    status = _answer(page)
    assert re.search(rf"sketch reads as {thing}\b", status), status
    page.wait_for_function("document.querySelectorAll('#result-images img').length > 0", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / f"things-{thing}.png"), full_page=True)


def test_switching_to_digits_changes_the_page_and_back(page):
    page.locator("#model-pick label", has_text="digits").click()
    page.wait_for_function("document.querySelector('#banner').innerText.includes('digits')", timeout=60_000)
    page.wait_for_function("document.querySelector('#sketch').innerText.includes('Draw a digit')", timeout=30_000)
    assert not page.locator("#sound-in").is_visible()  # the digits model hears no sounds
    page.locator("#model-pick label", has_text="things").click()
    page.wait_for_function("document.querySelector('#sketch').innerText.includes('Draw a thing')", timeout=60_000)
    assert page.locator("#sound-in").is_visible()

"""Remake the README's screenshots: run the app as a new visitor meets it (the shipped models, no
data folder, offline) and photograph each tab in Debian's Chromium through Playwright.

    python scripts/screenshots.py [--out docs/images]

Needs `apt-get install chromium` (Playwright downloads no browser here). The Search tab is shown
after a house drawn with the mouse; Explore after its map is drawn; Train and Model as they open.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textanchor.demo.assets import THING_STROKES  # noqa: E402
from textanchor.demo.launcher import launch_app, stop_app  # noqa: E402


def draw(page, strokes) -> None:
    """Strokes in a unit box (x right, y down, centre 0), drawn with the mouse on the canvas."""
    if "select the draw tool" in page.locator("#sketch").inner_text():
        page.locator('#sketch button[aria-label="Brush"]').click()
    box = page.locator("#sketch canvas").first.bounding_box()
    cx, cy, s = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 0.55 * min(box["width"], box["height"])
    for stroke in strokes:
        page.mouse.move(cx + stroke[0][0] * s, cy + stroke[0][1] * s)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(cx + x * s, cy + y * s)
        page.mouse.up()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "images"))
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(tempfile.mkdtemp(prefix="textanchor-shots-"))
    proc, url, seconds = launch_app(cache)
    print(f"app ready in {seconds:.1f} s")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=a.chromium, headless=True,
                                         args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            page.goto(url)
            page.wait_for_selector("#sketch canvas", timeout=120_000)
            draw(page, THING_STROKES["house"])
            time.sleep(0.3)
            page.locator("#search-sketch").click()
            page.wait_for_function("document.querySelector('#search-status').innerText.includes('reads as')",
                                   timeout=120_000)
            page.wait_for_function("document.querySelectorAll('#result-images img').length > 0", timeout=30_000)
            time.sleep(1.5)  # images and players finish drawing
            page.screenshot(path=str(out / "search.png"))
            page.get_by_role("tab", name="Explore").click()
            page.wait_for_selector("#map .js-plotly-plot .scatterlayer .point", timeout=300_000)
            time.sleep(1.5)
            page.screenshot(path=str(out / "explore.png"))
            for tab in ("Train", "Model"):
                page.get_by_role("tab", name=tab).click()
                time.sleep(1.5)
                page.screenshot(path=str(out / f"{tab.lower()}.png"))
            browser.close()
    finally:
        stop_app(proc)
        shutil.rmtree(cache, ignore_errors=True)
    for f in sorted(out.glob("*.png")):
        print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}: {f.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

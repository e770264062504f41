"""A plugin modality in the app (issue 13): the accel example of docs/new-modality.md, found
through its entry points only, trained tiny, served by `python app.py` and searched through
`gradio_client` with an accelerometer file, without any edit to app.py for accel.

The app runs in the plugin's environment (`plugin_env`, conftest.py); this process does
not import the plugin, so the other tests' registries stay as they are."""
from __future__ import annotations

import csv
import shutil

import pytest
from test_app_e2e import launch_app, stop_app

from textanchor.demo.service import MAX_K


@pytest.fixture(scope="module")
def accel_app(plugin_env, accel_walkthrough, tmp_path_factory):
    """The walkthrough's checkpoint (conftest.py: trained once per session) served by app.py;
    one of the walkthrough's own test recordings per activity (seed 9, items the gallery does
    not hold) as running.csv, sitting.csv, ..."""
    walked = accel_walkthrough[1]
    cache = tmp_path_factory.mktemp("accel-app")
    shutil.copytree(walked / "ckpt", cache / "runs" / "accel")
    with open(walked / "mine.csv", newline="") as f:
        for row in csv.DictReader(f):
            if not (cache / f"{row['text']}.csv").exists():
                shutil.copy(walked / row["path"], cache / f"{row['text']}.csv")
    proc, url, seconds = launch_app(cache / "runs" / "accel", cache, env=plugin_env)
    print(f"accel app ready in {seconds:.1f} s")
    yield url, cache
    stop_app(proc)


@pytest.mark.slow
def test_accel_query_input_search_and_plots(accel_app):
    from gradio_client import Client, handle_file

    url, cache = accel_app
    client = Client(url, verbose=False)
    assert "/search_accel" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for activity in ("running", "sitting"):
        out = client.predict(handle_file(str(cache / f"{activity}.csv")), 3, api_name="/search_accel")
        status, rows, plots = out[0], out[-1], out[4 + MAX_K:4 + 2 * MAX_K]
        assert "accel query reads as" in status, status
        assert rows["query"] == {**rows["query"], "modality": "accel", "label": activity}, rows
        assert [r["modality"] for r in rows["results"]] == ["accel"] * 3
        assert sum(r["label"] == activity for r in rows["results"]) >= 2, rows
        # the results drawn by AccelModality.render; a slot hidden before and after gets None (no update)
        shown = [p for p in plots if p is not None and p.get("visible")]
        assert len(shown) == 3 and all(p["value"]["type"] == "plotly" for p in shown), plots[:4]
    assert "reads as" in client.predict("a person jogging", 3, api_name="/search_text")[0]
    bad = cache / "bad.csv"
    bad.write_text("x,y,z\nfoo,bar,baz\n")
    assert "⚠️" in client.predict(handle_file(str(bad)), 3, api_name="/search_accel")[0]  # a message, not a trace


@pytest.mark.slow
def test_accel_map_and_pick(accel_app):
    from gradio_client import Client

    client = Client(accel_app[0], verbose=False)
    fig, _ = client.predict("t-SNE", "2-D", api_name="/map")
    assert fig["type"] == "plotly" and "accel (shape)" in fig["plot"]
    img, clip, text = client.predict("accel:0", api_name="/pick")
    assert img is None and clip is None and "accel" in text

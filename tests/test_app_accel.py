"""A plugin modality in the app (issue 13): the accel example of docs/new-modality.md, found
through its entry points only, trained tiny, served by `python app.py` and searched through
`gradio_client` with an accelerometer file, without any edit to app.py for accel.

The app runs in the plugin's environment (`test_example_accel.plugin_env`); this process does
not import the plugin, so the other tests' registries stay as they are."""
from __future__ import annotations

import pytest

from test_app_e2e import launch_app, stop_app
from test_example_accel import _run, plugin_env  # noqa: F401 - a fixture

from textanchor.demo.service import MAX_K

PREPARE = """
import sys
import numpy as np
from textanchor.cli import main
from textanchor.data import load_dataset
out = sys.argv[1]
assert main(["train", "--dataset", "accel:n_per_class=15", "--epochs", "8", "--batch-size", "16",
             "--out", out + "/runs/accel", "--quiet"]) == 0
test = load_dataset("accel", split="test", n_per_class=2, seed=11)  # items the gallery does not hold
for x, name in zip(test.items, test.texts):
    np.savetxt(f"{out}/{name}.csv", x, delimiter=",", header="x,y,z", comments="")
"""


@pytest.fixture(scope="module")
def accel_app(plugin_env, tmp_path_factory):  # noqa: F811
    cache = tmp_path_factory.mktemp("accel-app")
    _run(["-c", PREPARE, str(cache)], plugin_env, cache)
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
        shown = [p for p in plots if p.get("visible")]  # the results drawn by AccelModality.render
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

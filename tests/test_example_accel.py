"""The worked example of docs/new-modality.md, run as a newcomer would: the accel plugin in
examples/accel, found only through its entry points (no edit to textanchor), passes the
registry tests untouched, trains, evaluates, embeds and searches from the command line.

Both parts run in a fresh interpreter so the plugin never leaks into the other tests'
registries. The "installation" is the record `pip install` would leave (a dist-info folder
with the entry points of examples/accel/pyproject.toml), so the test needs no network; the
`plugin_env` and `accel_walkthrough` fixtures (conftest.py) are shared with test_app_accel.py,
which serves the walkthrough's checkpoint."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "accel"


def _run(args, env, cwd, timeout=300):
    """Run this interpreter with `args` in `env`; its stdout, or a failure with its output."""
    res = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


@pytest.mark.slow
def test_registry_tests_cover_the_plugin_untouched(plugin_env):
    out = _run(["-m", "pytest", str(ROOT / "tests" / "test_registries.py"), "-q", "-k", "accel",
                "-p", "no:cacheprovider"], plugin_env, ROOT)
    # encoder forward/backward, encoder on prepared examples, prepare/augment, app contract
    assert "4 passed" in out, out


WALKTHROUGH = """
import json, sys
import numpy as np
from textanchor.cli import main
from textanchor.data import load_dataset
out = sys.argv[1]
steps = [
    ["train", "--dataset", "accel:n_per_class=15", "--epochs", "8", "--batch-size", "16", "--out", out + "/ckpt", "--quiet"],
    ["evaluate", "--checkpoint", out + "/ckpt", "--dataset", "accel:n_per_class=25,seed=5", "--no-probes",
     "--json", out + "/eval.json"],
    ["embed", "--checkpoint", out + "/ckpt", "--dataset", "accel:split=test,n_per_class=10", "--out", out + "/index"],
    ["search", "--index", out + "/index", "--checkpoint", out + "/ckpt", "--text", "running", "-k", "3"],
]
for argv in steps:
    assert main(argv) == 0, argv
# A user's own recordings: CSV files in a manifest, found by extension through the registry.
test = load_dataset("accel", split="test", n_per_class=3, seed=9)
rows = ["path,text"]
for i, (x, name) in enumerate(zip(test.items, test.texts)):
    np.savetxt(f"{out}/rec{i}.csv", x, delimiter=",", header="x,y,z", comments="")
    rows.append(f"rec{i}.csv,{name}")
open(out + "/mine.csv", "w").write("\\n".join(rows) + "\\n")
assert main(["evaluate", "--checkpoint", out + "/ckpt", "--manifest", out + "/mine.csv", "--split", "all",
             "--no-probes", "--json", out + "/mine.json"]) == 0
assert main(["search", "--index", out + "/index", "--checkpoint", out + "/ckpt", "--file", out + "/rec0.csv"]) == 0
"""


@pytest.mark.slow
def test_walkthrough_from_the_command_line(accel_walkthrough):
    out, tmp_path = accel_walkthrough  # WALKTHROUGH run once per session (conftest.py)
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["accel/n"] == 100 and report["accel/n_classes"] == 4
    assert report["accel/zero_shot_acc"] >= 0.6, report  # chance: 0.25
    assert report["text_to_accel/P@1"] >= 0.75, report
    mine = json.loads((tmp_path / "mine.json").read_text())
    assert mine["accel/n"] == 12 and mine["accel/zero_shot_acc"] >= 0.5, mine
    hits = [line.split() for line in out.splitlines() if line.startswith("0.") and " accel " in line]
    assert hits[:3] and all(h[2] == "running" for h in hits[:3]), out  # text search: top 3 are running

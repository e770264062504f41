"""The repository as a Hugging Face Space: `requirements.txt` installs alone (before the
repository is there), `app.py` runs from the repository without the package installed, and the
command line stays reachable as `python -m textanchor`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines() -> list[str]:
    lines = []
    for raw in (ROOT / "requirements.txt").read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_requirements_need_nothing_from_the_repository():
    from packaging.requirements import InvalidRequirement, Requirement

    lines = requirement_lines()
    assert lines, "requirements.txt is empty"
    for line in lines:
        assert not line.startswith("-"), f"{line!r}: options such as -e / -r / -c name local files"
        assert "file:" not in line and not line.startswith((".", "/", "~")), f"{line!r} is a local path"
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            raise AssertionError(f"{line!r} is not a plain requirement: {e}") from None
        assert req.url is None or req.url.startswith("https://"), f"{line!r} points at a local URL"
    names = {Requirement(x).name.lower() for x in lines}
    assert "textanchor" not in names and {"gradio", "torch", "sentence-transformers"} <= names


# The editable install of this package (if any) is hidden, so only app.py's own path setup can
# make `textanchor` importable, as on a Space.
HIDE_INSTALLED = """
import runpy, sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()]
sys.path = [p for p in sys.path if p and p != {root!r} and "textanchor" not in p]
for name in [m for m in sys.modules if m.startswith("textanchor")]:
    del sys.modules[name]
sys.argv = ["app.py", "--help"]
try:
    runpy.run_path({app!r}, run_name="__main__")
except SystemExit:
    pass
import textanchor.demo.service  # what app.py imports once its arguments are parsed
print("TEXTANCHOR_FROM", textanchor.__file__)
"""


def test_app_runs_from_the_repository_without_the_package_installed(tmp_path):
    code = HIDE_INSTALLED.format(root=str(ROOT), app=str(ROOT / "app.py"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--max-epochs" in out.stdout and "--allow-any-path" in out.stdout  # the app's --help
    assert f"TEXTANCHOR_FROM {ROOT / 'textanchor' / '__init__.py'}" in out.stdout


def test_python_dash_m_textanchor_is_the_command_line():
    out = subprocess.run([sys.executable, "-m", "textanchor", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0 and "train" in out.stdout and "search" in out.stdout

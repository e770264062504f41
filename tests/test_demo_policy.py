"""Each visitor in their own lane: per-session models, server-path refusals and run limits,
through `DemoService` and the Train tab's recipe builder (no web server)."""
from __future__ import annotations

import shutil

import pytest

from textanchor.demo.inputs import InputError
from textanchor.demo.policy import Limits, PathPolicy
from textanchor.demo.service import DemoService
from textanchor.demo.trainer import recipe_from_form

from test_demo_service import SMALL_SOURCES

DIGITS = ["Handwritten digits (scikit-learn 8x8, offline)"]


@pytest.fixture(scope="module")
def lanes(trained, anchor, tmp_path_factory):
    """A service whose cache holds a second checkpoint (a copy of the toy one)."""
    cache = tmp_path_factory.mktemp("cache")
    other = cache / "runs" / "other"
    shutil.copytree(trained.checkpoint, other)
    s = DemoService(trained.checkpoint, cache_dir=cache, download=False, anchor=anchor, sources=SMALL_SOURCES,
                    limits=Limits(max_epochs=5, max_batch=64, runs_per_visitor=1, max_minutes=2), background_maps=False)
    return s, other


def test_a_visitors_model_is_theirs_alone(lanes, trained):
    s, other = lanes
    assert s.activate(other, session="alice").startswith("✅")
    assert s.active("alice")[0].path == str(other)
    assert s.active("bob")[0].path == str(trained.checkpoint)  # others keep the default
    assert s.embedder.path == str(trained.checkpoint)
    assert "(your own)" in s.status("alice") and "(your own)" not in s.status("bob")
    assert "reads as" in s.search("text", "one", 3, session="alice").status
    s.forget("alice")
    assert s.active("alice")[0].path == str(trained.checkpoint)


@pytest.mark.parametrize("path", ["/etc", "/tmp/../etc", "~", "/"])
def test_server_paths_outside_the_apps_folders_are_refused(lanes, path):
    s, _ = lanes
    msg = s.activate(path, session="carol")
    assert msg.startswith("⚠️") and "Refused" in msg and "--allow-any-path" in msg
    with pytest.raises(InputError, match="Refused"):
        s.zip_checkpoint(path)


def test_links_cannot_escape_an_allowed_folder(tmp_path):
    root = tmp_path / "cache"
    root.mkdir()
    (root / "escape").symlink_to("/etc")
    policy = PathPolicy([root])
    assert policy.allowed(root / "runs" / "x") and not policy.allowed(root / "escape" / "passwd")
    assert not policy.allowed(tmp_path / "cache-sibling")
    assert PathPolicy([root], allow_any=True).allowed("/etc")
    assert DemoService(None, cache_dir=root, allow_any_path=True).policy.allowed("/etc")  # the operator's flag
    assert not DemoService(None, cache_dir=root).policy.allowed("/etc")


def test_train_form_refuses_outside_files(lanes, tmp_path):
    s, _ = lanes
    from PIL import Image

    Image.new("L", (28, 28)).save(tmp_path / "x.png")
    manifest = tmp_path / "m.csv"  # tmp_path is outside the service's folders
    manifest.write_text(f"path,text\n{tmp_path / 'x.png'},zero\n")
    with pytest.raises(InputError, match="Refused.*CSV manifest names"):
        recipe_from_form([], str(manifest), policy=s.policy)
    with pytest.raises(InputError, match="Refused.*video folder"):
        recipe_from_form(DIGITS, videos="/etc", policy=s.policy)


def test_run_limits_and_runs_per_visitor(lanes):
    s, _ = lanes
    with pytest.raises(InputError, match="at most 5 epochs"):
        s.start_training("carol", recipe_from_form(DIGITS, epochs=6, policy=s.policy))
    with pytest.raises(InputError, match="batch size of 64"):
        s.start_training("carol", recipe_from_form(DIGITS, batch_size=128, policy=s.policy))
    cfg = recipe_from_form(DIGITS, epochs=1, batch_size=32, policy=s.policy)
    run = s.start_training("dave", cfg)
    assert cfg.max_minutes == 2  # the operator's cap, not the form's 30
    run.stop()
    run.thread.join(timeout=120)
    with pytest.raises(InputError, match="1 training runs per visitor"):
        s.start_training("dave", cfg)
    assert "carol" not in s.run_counts  # refused runs are not counted

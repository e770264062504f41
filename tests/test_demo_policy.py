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
    """A service whose cache holds a second checkpoint (a copy of the toy one) outside runs/, and
    a run left in runs/ from before a restart (nobody's)."""
    cache = tmp_path_factory.mktemp("cache")
    other = cache / "models" / "other"
    shutil.copytree(trained.checkpoint, other)
    shutil.copytree(trained.checkpoint, cache / "runs" / "run-old")
    s = DemoService(trained.checkpoint, cache_dir=cache, download=False, anchor=anchor, sources=SMALL_SOURCES,
                    limits=Limits(max_epochs=5, max_batch=64, runs_per_visitor=1, max_minutes=2), background_maps=False)
    return s, other


def test_a_visitors_model_is_theirs_alone(lanes, trained):
    s, other = lanes
    assert s.activate(other, session="alice").startswith("✅")
    assert s.active("alice")[0].path == str(other)
    assert s.active("bob")[0].path == str(trained.checkpoint)  # others keep the default
    assert s.embedder.path == str(trained.checkpoint)
    assert "(your choice)" in s.status("alice") and "(your choice)" not in s.status("bob")
    # The banner names models, never where they live on the server (issue 19).
    assert str(other) not in s.status("alice") and str(trained.checkpoint) not in s.status("bob")
    assert "**other**" in s.status("alice")
    assert "reads as" in s.search("text", "one", 3, session="alice").status
    s.forget("alice")
    assert s.active("alice")[0].path == str(trained.checkpoint)


@pytest.mark.parametrize("path", ["/etc", "/tmp/../etc", "~", "/"])
def test_server_paths_outside_the_apps_folders_are_refused(lanes, path):
    s, _ = lanes
    msg = s.activate(path, session="carol")
    assert msg.startswith("⚠️") and "Refused" in msg and "--allow-any-path" in msg
    assert not any(str(r) in msg for r in s.policy.roots), msg  # the app's own folders stay unnamed
    with pytest.raises(InputError, match="Refused"):
        s.zip_checkpoint(path)


@pytest.mark.parametrize("folder", ["/etc", "/root", "~", "../..", "/tmp/../etc"])
def test_a_local_anchor_folder_passes_the_path_policy(lanes, folder):
    s, _ = lanes
    with pytest.raises(InputError, match="Refused: the text anchor model .* outside this app's folders"):
        recipe_from_form(DIGITS, anchor=folder, policy=s.policy)


def test_a_hub_anchor_name_is_still_a_name(lanes, monkeypatch, tmp_path):
    s, _ = lanes
    monkeypatch.chdir(tmp_path)  # no local folder of that name
    assert recipe_from_form(DIGITS, anchor="thenlper/gte-base", policy=s.policy).anchor == "thenlper/gte-base"
    (tmp_path / "thenlper" / "gte-base").mkdir(parents=True)  # now it names a local folder, outside the app's
    with pytest.raises(InputError, match="Refused"):
        recipe_from_form(DIGITS, anchor="thenlper/gte-base", policy=s.policy)


def test_a_run_left_from_before_is_nobodys(lanes):
    s, _ = lanes
    old = s.runs_dir / "run-old"
    for who in ("alice", "api"):
        assert "belong to the visitor session" in s.activate(old, session=who)
        with pytest.raises(InputError, match="not yours"):
            s.zip_checkpoint(old, session=who)
    assert str(old) not in s.checkpoints("alice") and str(old) not in s.checkpoints()
    assert s.zip_checkpoint(old).endswith(".zip")  # the operator (no session) may
    for path in (old / "model.safetensors", s.runs_dir, old / ".." / "run-old"):  # nor name it as training data
        with pytest.raises(InputError, match="not yours"):
            recipe_from_form(DIGITS, videos=str(path), policy=s.policy_for("alice"))
    with pytest.raises(InputError, match="not yours"):
        recipe_from_form(DIGITS, anchor=str(old), policy=s.policy_for("alice"))


def test_data_folder_choice_without_its_files_gives_the_pages_advice(tmp_path):
    for choice in ("MNIST handwritten digits (data folder)", "Spoken digits (FSDD, data folder)"):
        with pytest.raises(InputError) as e:
            recipe_from_form([choice], data_root=str(tmp_path))
        msg = str(e.value)
        assert "--download" not in msg and str(tmp_path) in msg
        assert "Handwritten digits (scikit-learn 8x8, offline)" in msg and "--data" in msg


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


def _tiny_manifest(folder) -> str:
    """A `path,text` manifest of 12 toy pictures (conftest.toy_images) written into `folder`."""
    from PIL import Image

    from conftest import toy_images

    folder.mkdir(parents=True, exist_ok=True)
    s = toy_images(4, seed=5)
    rows = ["path,text"]
    for i, (img, y) in enumerate(zip(s.items, s.labels)):
        Image.fromarray(img).save(folder / f"{i}.png")
        rows.append(f"{i}.png,{s.class_names[y]}")
    (folder / "m.csv").write_text("\n".join(rows) + "\n")
    return str(folder / "m.csv")


def test_run_limits_and_runs_per_visitor(lanes):
    s, _ = lanes
    with pytest.raises(InputError, match="at most 5 epochs"):
        s.start_training("carol", recipe_from_form(DIGITS, epochs=6, policy=s.policy))
    with pytest.raises(InputError, match="batch size of 64"):
        s.start_training("carol", recipe_from_form(DIGITS, batch_size=128, policy=s.policy))
    # A dozen pictures (what is checked here is who may use the run, not what it learns): the
    # run is niced below the server, so on a busy machine every item it prepares costs seconds.
    cfg = recipe_from_form([], _tiny_manifest(s.cache_dir / "tiny"), epochs=1, batch_size=32, policy=s.policy)
    run = s.start_training("dave", cfg)
    assert cfg.max_minutes == 2  # the operator's cap, not the form's 30
    run.stop()
    run.thread.join(timeout=120)
    with pytest.raises(InputError, match="1 training runs per visitor"):
        s.start_training("dave", cfg)
    assert "carol" not in s.run_counts  # refused runs are not counted
    # the run is dave's: another session can neither load, download nor list it
    assert (run.out_dir / "config.json").is_file()
    assert "not yours" in s.activate(run.out_dir, session="erin")
    with pytest.raises(InputError, match="not yours"):
        s.zip_checkpoint(str(run.out_dir) + "/.", session="erin")
    assert run.out_dir.name not in s.checkpoints("erin") and run.out_dir.name in s.checkpoints("dave")
    mine = s.activate(run.out_dir, session="dave")  # loads (this test's fixed gallery wants audio, so it stops there)
    assert "Refused" not in mine and "not yours" not in mine and "Could not load" in mine
    assert s.zip_checkpoint(run.out_dir, session="dave").endswith(".zip")


def test_a_model_name_that_does_not_exist_is_named_as_such(lanes):
    s, _ = lanes
    msg = s.activate("nonexistent", session="carol")
    assert msg.startswith("⚠️") and "No model named 'nonexistent'" in msg and "Refused" not in msg


def test_an_items_source_is_shown_without_server_paths(tmp_path):
    from textanchor.demo.explore import REPO_ROOT, public_source

    assert public_source("quickdraw:cat:12") == "quickdraw:cat:12"
    assert public_source(str(REPO_ROOT / "assets" / "gallery" / "x.png")) == "assets/gallery/x.png"
    assert public_source(str(tmp_path / "data" / "esc50" / "1-100-A-0.wav")) == "1-100-A-0.wav"

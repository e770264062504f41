"""Plugins: registries filled by discovery (package modules, entry points), `--dataset` specs,
manifests resolved through the modality registry, and the app contract of image and audio."""
import importlib
import sys
import textwrap

import numpy as np
import pytest

from textanchor.cli_data import parse_dataset_spec
from textanchor.data import DataError, load_dataset
from textanchor.modalities import MODALITIES, create_modality, modality_for_path


def write_dist(folder, name: str, entry_points: dict[str, dict[str, str]]) -> None:
    """An installed-distribution record on `folder` (what `pip install` leaves), so that
    importlib.metadata finds its entry points once `folder` is on sys.path."""
    info = folder / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for group, eps in entry_points.items()))


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """A package `toyreg` with a registry over its own modules and the group `toyreg.things`."""
    pkg = tmp_path / "toyreg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        from textanchor.registry import Registry
        THINGS = Registry("thing", package="toyreg", entry_points="toyreg.things", decorator="@THINGS.register(name)")
    """))
    (pkg / "alpha.py").write_text("from toyreg import THINGS\nTHINGS.register('alpha')(object())\n")
    (pkg / "_private.py").write_text("raise RuntimeError('modules starting with _ are not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for mod in [m for m in sys.modules if m.split(".")[0] in ("toyreg", "toyplug")]:
        del sys.modules[mod]


def test_package_modules_register_on_first_lookup(toy_package):
    import toyreg

    assert "toyreg.alpha" not in sys.modules  # importing the package discovers nothing yet
    (toy_package / "toyreg" / "beta.py").write_text("from toyreg import THINGS\nTHINGS.register('beta')(1)\n")
    assert toyreg.THINGS.names() == ["alpha", "beta"]  # a new file: no __init__ edit


def test_entry_points_register_modules_and_objects(toy_package):
    (toy_package / "toyplug.py").write_text(textwrap.dedent("""
        from toyreg import THINGS
        THINGS.register("by_decorator")(2)
        def make(): return 3
    """))
    write_dist(toy_package, "toyplug", {"toyreg.things": {
        "by_decorator": "toyplug", "by_name": "toyplug:make", "broken": "no_such_module_here"}})
    importlib.invalidate_caches()
    import toyreg

    with pytest.warns(RuntimeWarning, match="'broken'.*failed to load"):
        names = toyreg.THINGS.names()
    assert names == ["alpha", "by_decorator", "by_name"]
    assert toyreg.THINGS.get("by_name")() == 3
    with pytest.raises(KeyError, match=r"known: alpha, by_decorator, by_name\. To add a thing: a module in "
                                       r"toyreg/ .*entry point in the group 'toyreg.things'"):
        toyreg.THINGS.get("gamma")


def test_dataset_specs():
    assert parse_dataset_spec("digits") == ("digits", {})
    assert parse_dataset_spec("fsdd:root=/data/fsdd,holdout=speaker,test_speakers=('theo', 'lucas'),limit=5") == (
        "fsdd", {"root": "/data/fsdd", "holdout": "speaker", "test_speakers": ("theo", "lucas"), "limit": 5})
    with pytest.raises(ValueError, match="got 'd.csv'"):  # a comma splits options...
        parse_dataset_spec("manifest:csv_path=a b/c,d.csv")
    assert parse_dataset_spec("manifest:csv_path='a b/c,d.csv'") == ("manifest", {"csv_path": "a b/c,d.csv"})  # ...quotes keep
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_dataset_spec("digits:oops")
    with pytest.raises(KeyError, match="known: .*digits.*textanchor.datasets"):
        parse_dataset_spec("no_such_set:x=1")


def test_cli_evaluates_a_dataset_by_name(trained, capsys):
    from textanchor.cli import main

    assert main(["evaluate", "--checkpoint", str(trained.checkpoint), "--dataset", "digits:limit=40",
                 "--no-probes"]) == 0
    assert "image/zero_shot_acc" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(trained.checkpoint), "--dataset", "nope"]) == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err


def test_modality_for_path_uses_the_registry():
    assert modality_for_path("x/a.PNG") == "image" and modality_for_path("b.flac") == "audio"
    with pytest.raises(ValueError, match="known extensions: .*\\.png.*\\.wav"):
        modality_for_path("notes.txt")
    assert modality_for_path("a.wav", among=["audio"]) == "audio"


def test_manifest_modality_column_and_registry_extensions(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((10, 10), 200, np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "b.webp")  # not in the old table
    (tmp_path / "m.csv").write_text("path,text\na.png,one\nb.webp,two\n")
    ds = load_dataset("manifest", csv_path=tmp_path / "m.csv")
    assert ds.modality == "image" and ds.sample_rate is None and ds.items[1].shape == (10, 10, 3)
    (tmp_path / "col.csv").write_text("path,text,modality\na.png,one,image\n")
    assert load_dataset("manifest", csv_path=tmp_path / "col.csv").modality == "image"
    (tmp_path / "bad.csv").write_text("path,text,modality\na.png,one,smell\n")
    with pytest.raises(DataError, match="unknown modality 'smell'.*known: .*audio.*image"):
        load_dataset("manifest", csv_path=tmp_path / "bad.csv")
    (tmp_path / "n.txt").write_text("hello")
    (tmp_path / "txt.csv").write_text("path,text\nn.txt,one\n")
    with pytest.raises(DataError, match="no modality .* reads .txt files.*modality. column"):
        load_dataset("manifest", csv_path=tmp_path / "txt.csv")


def test_image_and_audio_queries_and_results():
    image, audio = create_modality("image"), create_modality("audio")
    drawing = np.zeros((100, 100, 4), np.uint8)
    drawing[20:80, 45:55, 3] = 255  # a stroke in the alpha channel, as the sketchpad sends it
    item, rate = image.query_item({"layers": [drawing], "background": None, "composite": drawing})
    assert rate is None and item.shape == (100, 100) and item.max() == 255
    kind, value = image.render(np.full((4, 4), 0.5, np.float32))
    assert kind == "image" and value.dtype == np.uint8 and value.max() == 128

    from conftest import spoken_word

    word = spoken_word("seven", 16000)  # speech: the voice detector refuses a tone
    wave, rate = audio.query_item((16000, (word * 40000).astype(np.int16)))  # peak 20000
    assert rate == 16000 and wave.dtype == np.float32 and 0.5 < np.abs(wave).max() <= 1.0
    kind, (r, w) = audio.render(wave, rate)
    assert kind == "audio" and r == 16000 and np.array_equal(w, wave)
    with pytest.raises(ValueError, match="silent"):
        audio.query_item((16000, np.zeros(8000, np.int16)))


def test_default_contract_is_a_file_upload_and_a_plot(tmp_path):
    """A modality that only decodes files still gets an app input and a result view."""
    from textanchor.modalities.base import Modality

    class Plain(Modality):
        name = "plain"
        file_extensions = (".npy",)

        def read_file(self, path):
            return np.load(path)

    m = Plain()
    assert m.query_component() == ("file", {"file_types": [".npy"], "label": "A plain file"})
    np.save(tmp_path / "s.npy", np.arange(6, dtype=np.float32).reshape(3, 2))
    item, rate = m.query_item(str(tmp_path / "s.npy"))
    assert item.shape == (3, 2) and rate is None
    with pytest.raises(ValueError, match="Upload a plain file"):
        m.query_item(None)
    kind, fig = m.render(item)
    assert kind == "plot" and len(fig.data) == 2
    assert "plain" not in MODALITIES  # defining a class registers nothing by itself

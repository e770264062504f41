"""scripts/data/build_fsdd_speaker.py: one speaker's files out of a git mirror, unchanged, with their source."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "data" / "build_fsdd_speaker.py"


def _load():
    spec = importlib.util.spec_from_file_location("build_fsdd_speaker", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _repo(tmp_path) -> tuple[str, str]:
    work = tmp_path / "work"
    (work / "recordings").mkdir(parents=True)
    for name, data in [("0_lucas_0.wav", b"RIFF-lucas-0"), ("7_lucas_12.wav", b"RIFF-lucas-7"),
                       ("0_theo_0.wav", b"RIFF-theo"), ("0_lucasx_0.wav", b"RIFF-other")]:
        (work / "recordings" / name).write_bytes(data)
    run = lambda *a: subprocess.run(["git", *a], cwd=work, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(work), str(mirror)], check=True, capture_output=True)
    commit = subprocess.run(["git", "--git-dir", str(mirror), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return str(mirror), commit


def test_copies_only_that_speaker_unchanged_and_records_the_commit(tmp_path):
    mirror, commit = _repo(tmp_path)
    out = tmp_path / "out"
    assert _load().main(["--mirror", mirror, "--speaker", "lucas", "--out", str(out)]) == 0
    files = sorted(p.name for p in (out / "recordings").iterdir())
    assert files == ["0_lucas_0.wav", "7_lucas_12.wav"]
    assert (out / "recordings" / "7_lucas_12.wav").read_bytes() == b"RIFF-lucas-7"
    source = (out / "SOURCE.md").read_text()
    assert commit in source and "CC BY-SA 4.0" in source and "2 clips" in source


def test_an_unknown_speaker_is_an_error_and_writes_nothing(tmp_path, capsys):
    mirror, _ = _repo(tmp_path)
    out = tmp_path / "out"
    assert _load().main(["--mirror", mirror, "--speaker", "nobody", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert not out.exists() and "no recordings" in err and "speakers there: lucas, lucasx, theo" in err


def test_a_folder_that_is_no_mirror_or_a_bad_commit_gets_a_message_not_a_traceback(tmp_path, capsys):
    mirror, _ = _repo(tmp_path)
    build = _load()
    assert build.main(["--mirror", str(tmp_path / "nothing"), "--speaker", "lucas", "--out", str(tmp_path / "o")]) == 2
    assert "cannot read commit 'HEAD'" in capsys.readouterr().err
    assert build.main(["--mirror", mirror, "--commit", "deadbeef", "--speaker", "lucas", "--out", str(tmp_path / "o")]) == 2
    assert "cannot read commit 'deadbeef'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


#!/usr/bin/env python3
"""Build a small "thing words" subset of Google Speech Commands from git mirrors.

Source: Google Speech Commands (Warden 2018, arXiv:1804.03209), v0.01/v0.02,
one-second 16 kHz mono WAV clips named ``<speakerhash>_nohash_<n>.wav``.
Licence: CC BY 4.0 (Speech Commands, Google).  The clips are read out of public
GitHub repositories that committed parts of the data set (bare git mirrors given
with --mirror); nothing is downloaded by this script.

Recognised layouts inside a mirror's HEAD tree:
  * ``.../<word>/<hash>_nohash_<n>.wav``            (official folder layout)
  * ``.../<word>_<hash>_nohash_<n>.wav[.wav]``       (flattened, e.g. the
    ``_unknown_`` folder of the official test-set archive)
Clips found only in older commits (deleted or moved later) are read too, unless
--head-only.  Git LFS pointers and non-RIFF blobs are skipped.  Clips are deduplicated by
(word, ``<hash>_nohash_<n>``); the first mirror given wins.

official_split is taken from testing_list.txt / validation_list.txt when the
mirror has them ("train" for listed-elsewhere clips), or "test" for clips under
a folder whose README.md is the official "Speech Commands Data Set Test Files"
README; otherwise it is left empty.

Output: <out>/words/<word>/<hash>_nohash_<n>.wav, <out>/labels.csv
(path,label,speaker,official_split,repo,commit,licence) and <out>/SOURCE.md.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
from collections import defaultdict

from gitmirror import BlobReader, git, list_tree, repo_name  # noqa: E402 (this folder; run as a script)

LICENCE = "CC BY 4.0 (Speech Commands, Google)"
DEFAULT_WORDS = "bed,bird,cat,dog,house,tree"
CLIP_RE = re.compile(r"^(?:(?P<prefix>[a-z]+)_)?(?P<spk>[0-9a-f]{8})_nohash_(?P<n>\d+)\.wav(?:\.wav)?$")
TEST_README_MARK = "Speech Commands Data Set Test Files"


def history_blobs(gitdir: str, head_paths: set):
    """(path, sha, commit) of clip blobs reachable from any ref but absent from HEAD's tree.

    Some repositories committed clips and later deleted or moved them; the blobs stay in the
    history.  The commit given is the newest one (over all refs) whose tree has the path."""
    out = git(gitdir, "rev-list", "--all", "--objects", "--missing=allow-any").decode("utf-8", "replace")
    found = {}
    for line in out.splitlines():
        parts = line.split(" ", 1)
        if len(parts) != 2 or parts[1] in head_paths:
            continue
        if CLIP_RE.match(os.path.basename(parts[1])):
            found.setdefault(parts[1], parts[0])
    rows = []
    for path, sha in sorted(found.items()):
        try:
            commit = git(gitdir, "log", "--all", "-1", "--format=%H", "--", path).decode().strip()
        except subprocess.CalledProcessError:
            commit = ""
        rows.append((path, sha, commit))
    return rows


def official_lists(gitdir: str, blobs: BlobReader, tree: list) -> dict:
    """Map '<word>/<file>' -> split from any testing_list/validation_list."""
    split = {}
    for path, sha, _ in tree:
        base = os.path.basename(path)
        if base in ("testing_list.txt", "validation_list.txt"):
            name = "test" if base.startswith("testing") else "validation"
            for line in (blobs.read(sha) or b"").decode("utf-8", "replace").splitlines():
                line = line.strip()
                if line:
                    split.setdefault("/".join(line.split("/")[-2:]), name)
    return split


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", action="append", required=True,
                    help="bare git dir of a repository holding Speech Commands clips (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--words", default=DEFAULT_WORDS)
    ap.add_argument("--verify", action="store_true", help="check every written file with soundfile")
    ap.add_argument("--head-only", action="store_true",
                    help="read only HEAD's tree (default: also clips found only in older commits)")
    args = ap.parse_args(argv)
    words = [w.strip() for w in args.words.split(",") if w.strip()]
    wordset = set(words)

    rows, seen, sources = [], {}, []
    skipped = defaultdict(int)
    for gitdir in args.mirror:
        name = repo_name(gitdir)
        commit = git(gitdir, "rev-parse", "HEAD").decode().strip()
        blobs = BlobReader(gitdir)
        tree = list(list_tree(gitdir, commit))
        lists = official_lists(gitdir, blobs, tree)
        test_dirs = set()
        for path, sha, size in tree:
            if os.path.basename(path) == "README.md" and 0 < size < 20000:
                if TEST_README_MARK in (blobs.read(sha) or b"").decode("utf-8", "replace")[:200]:
                    test_dirs.add(os.path.dirname(path))
        added = 0
        items = [(path, sha, size, commit) for path, sha, size in tree]
        if not args.head_only:
            hist = history_blobs(gitdir, {p for p, _, _ in tree})
            items += [(path, sha, 1, c or commit) for path, sha, c in hist]
        for path, sha, size, at in items:
            base = os.path.basename(path)
            m = CLIP_RE.match(base)
            if not m:
                continue
            parent = os.path.basename(os.path.dirname(path))
            word = m.group("prefix") or parent
            if word not in wordset:
                continue
            clip = f"{m.group('spk')}_nohash_{m.group('n')}.wav"
            key = (word, clip)
            if key in seen:
                skipped["duplicate"] += 1
                continue
            data = (blobs.read(sha) or b"") if size > 0 else b""
            if not data:
                skipped["missing_blob"] += 1
                continue
            if data.startswith(b"version https://git-lfs"):
                skipped["lfs_pointer"] += 1
                continue
            if not (data[:4] == b"RIFF" and data[8:12] == b"WAVE"):
                skipped["not_wav"] += 1
                continue
            if lists:
                split = lists.get(f"{word}/{clip}", "train")
            elif any(path.startswith(d + "/") for d in test_dirs):
                split = "test"
            else:
                split = ""
            rel = f"words/{word}/{clip}"
            dst = os.path.join(args.out, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as fh:
                fh.write(data)
            seen[key] = rel
            rows.append(dict(path=rel, label=word, speaker=m.group("spk"), official_split=split,
                             repo=name, commit=at, licence=LICENCE, _src=path))
            added += 1
        blobs.close()
        sources.append((name, commit, added, bool(lists), sorted(test_dirs)))
        print(f"{name}@{commit[:10]}: {added} clips", file=sys.stderr)

    rows.sort(key=lambda r: r["path"])
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "speaker", "official_split",
                                           "repo", "commit", "licence"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)

    bad = []
    if args.verify:
        import soundfile as sf
        for r in rows:
            info = sf.info(os.path.join(args.out, r["path"]))
            if info.samplerate != 16000 or info.channels != 1 or not (0.2 <= info.duration <= 1.05):
                bad.append((r["path"], info.samplerate, info.channels, round(info.duration, 3)))

    per_word = defaultdict(list)
    for r in rows:
        per_word[r["label"]].append(r)
    summary = []
    for wd in words:
        rs = per_word.get(wd, [])
        spk = {r["speaker"] for r in rs}
        summary.append((wd, len(rs), len(spk)))
        print(f"{wd:8s} clips={len(rs):5d} speakers={len(spk):5d}")
    all_spk = {r["speaker"] for r in rows}
    print(f"total clips={len(rows)} distinct speakers={len(all_spk)} skipped={dict(skipped)}")
    if args.verify:
        print(f"verified with soundfile: {len(rows) - len(bad)} ok, {len(bad)} outside 16 kHz/mono/0.2-1.05 s")
        for b in bad[:20]:
            print("  ", b)

    with open(os.path.join(args.out, "SOURCE.md"), "w") as fh:
        fh.write("# Speech Commands thing-word subset\n\n")
        fh.write("Data: Google Speech Commands (P. Warden, 2018, arXiv:1804.03209), "
                 f"licence {LICENCE}. Clips were copied byte-for-byte from public GitHub "
                 "repositories that committed parts of the data set, by "
                 "`scripts/data/build_speech_commands.py`.\n\n")
        fh.write("| repo | commit | clips used | official split from |\n|---|---|---|---|\n")
        for name, commit, added, has_lists, tdirs in sources:
            how = "testing/validation lists" if has_lists else (
                "official test-set README in " + ", ".join(tdirs) if tdirs else "none (empty)")
            fh.write(f"| https://github.com/{name} | `{commit}` | {added} | {how} |\n")
        fh.write("\n| word | clips | speakers |\n|---|---|---|\n")
        for wd, n, s in summary:
            fh.write(f"| {wd} | {n} | {s} |\n")
        fh.write(f"\nTotal {len(rows)} clips, {len(all_spk)} distinct speaker hashes. "
                 "Speaker = the hash before `_nohash_`. Duplicates (same word and file name) "
                 "were kept once, from the first repository listed. The commit column of "
                 "labels.csv names, per clip, a commit whose tree holds it (clips found only in "
                 "older commits of a repository carry that older commit).\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

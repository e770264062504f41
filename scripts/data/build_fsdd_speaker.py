#!/usr/bin/env python3
"""Copy one FSDD speaker's recordings out of a bare git mirror of the Free Spoken Digit Dataset.

For measuring a voice no checkpoint heard: `../shared/data/fsdd` holds five of FSDD's six
speakers; the sixth, lucas, is the held-out speaker of `benchmarks/unseen_voice.py`.

Source: github.com/Jakobovski/free-spoken-digit-dataset (Zohar Jackson et al.), CC BY-SA 4.0.
Nothing is downloaded: the files are read out of the mirror (the search tool's `fetch`, or
`git clone --mirror`) at the given commit, default HEAD, and written unchanged.

Output: <out>/recordings/{digit}_{speaker}_{index}.wav (8 kHz mono 16-bit, as published) and
<out>/SOURCE.md naming the repository, commit and licence.

Usage:
  python scripts/data/build_fsdd_speaker.py --speaker lucas --out DATA/fsdd_lucas \\
      --mirror /work/.mirror/Jakobovski+free-spoken-digit-dataset/repo
"""
from __future__ import annotations

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitmirror import BlobReader, git, list_tree, repo_name  # noqa: E402

LICENCE = "CC BY-SA 4.0 (Free Spoken Digit Dataset, Zohar Jackson et al.)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", required=True, help="bare git dir of the FSDD repository")
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("--speaker", required=True, help="e.g. lucas")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    commit = git(a.mirror, "rev-parse", a.commit).decode().strip()
    pattern = re.compile(rf"(^|/)recordings/([0-9])_{re.escape(a.speaker)}_([0-9]+)\.wav$")
    files = [(p, sha) for p, sha, _ in list_tree(a.mirror, commit) if pattern.search(p)]
    if not files:
        print(f"no recordings/{{digit}}_{a.speaker}_{{index}}.wav in {a.mirror} at {commit[:10]}", file=sys.stderr)
        return 1
    os.makedirs(os.path.join(a.out, "recordings"), exist_ok=True)
    reader = BlobReader(a.mirror)
    missing = 0
    for path, sha in files:
        data = reader.read(sha)
        if data is None:
            missing += 1
            continue
        with open(os.path.join(a.out, "recordings", os.path.basename(path)), "wb") as f:
            f.write(data)
    reader.close()
    with open(os.path.join(a.out, "SOURCE.md"), "w") as f:
        f.write(f"# FSDD speaker {a.speaker}\n\n"
                f"- Repository: https://github.com/{repo_name(a.mirror)}\n"
                f"- Commit: {commit}\n"
                f"- Files: recordings/*_{a.speaker}_*.wav, {len(files) - missing} clips, copied unchanged\n"
                f"- Licence: {LICENCE}\n"
                f"- Made by: scripts/data/build_fsdd_speaker.py --speaker {a.speaker}\n")
    print(f"{len(files) - missing} recordings of {a.speaker} -> {a.out} ({missing} missing from the mirror)")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Copy one FSDD speaker's recordings out of a bare git mirror of the Free Spoken Digit Dataset.

For measuring a voice no checkpoint heard: `../shared/data/fsdd` holds five of FSDD's six
speakers; the sixth, lucas, is the held-out speaker of `benchmarks/unseen_voice.py`.

Source: github.com/Jakobovski/free-spoken-digit-dataset (Zohar Jackson et al.), CC BY-SA 4.0.
Nothing is downloaded here: the files are read out of a bare mirror made beforehand with
`git clone --mirror https://github.com/Jakobovski/free-spoken-digit-dataset FSDD_MIRROR`, at the
given commit (default HEAD), and written unchanged.

Output: <out>/recordings/{digit}_{speaker}_{index}.wav (8 kHz mono 16-bit, as published) and
<out>/SOURCE.md naming the repository, commit and licence.

Usage:
  python scripts/data/build_fsdd_speaker.py --speaker lucas --out DATA/fsdd_lucas --mirror FSDD_MIRROR
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitmirror import BlobReader, git, list_tree, repo_name  # noqa: E402

LICENCE = "CC BY-SA 4.0 (Free Spoken Digit Dataset, Zohar Jackson et al.)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", required=True, help="bare git dir of the FSDD repository (git clone --mirror)")
    ap.add_argument("--commit", default="HEAD", help="commit, branch or tag to read (default HEAD)")
    ap.add_argument("--speaker", required=True, help="FSDD speaker name as in the file names, e.g. lucas")
    ap.add_argument("--out", required=True, help="folder to write recordings/ and SOURCE.md into")
    a = ap.parse_args(argv)
    try:
        commit = git(a.mirror, "rev-parse", "--verify", f"{a.commit}^{{commit}}").decode().strip()
        tree = [(p, sha) for p, sha, _ in list_tree(a.mirror, commit)]
    except subprocess.CalledProcessError as exc:
        why = exc.stderr.decode(errors="replace").strip().splitlines()
        print(f"cannot read commit {a.commit!r} of {a.mirror}: {why[-1] if why else 'git failed'}", file=sys.stderr)
        return 2
    found = re.compile(r"(^|/)recordings/[0-9]_([A-Za-z]+)_[0-9]+\.wav$")
    files = [(p, sha) for p, sha in tree if (m := found.search(p)) and m.group(2) == a.speaker]
    if not files:
        speakers = sorted({m.group(2) for p, _ in tree if (m := found.search(p))})
        print(f"no recordings/{{digit}}_{a.speaker}_{{index}}.wav in {a.mirror} at {commit[:10]}; "
              f"speakers there: {', '.join(speakers) or 'none'}", file=sys.stderr)
        return 1
    try:
        os.makedirs(os.path.join(a.out, "recordings"), exist_ok=True)
    except OSError as exc:
        print(f"cannot write to {a.out}: {exc.strerror}", file=sys.stderr)
        return 2
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

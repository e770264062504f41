#!/usr/bin/env python3
"""Build the Quick, Draw! bitmap folder that textanchor/data/quickdraw.py reads, from git mirrors.

Source data: the Quick, Draw! Dataset (Jongejan et al. 2016, Google), numpy_bitmap format:
28x28 uint8 bitmaps, ink bright (255) on black (0), each drawing centred and scaled by Google.
Licence of the data: CC BY 4.0 (Google).  Google publishes the full per-class files (about
100 MB each) on Google Cloud, not on GitHub; this script instead reads the small subsets that
public GitHub repositories committed (bare git mirrors given with --mirror).  Nothing is
downloaded and no drawing is re-rendered: every row written is a byte-for-byte copy of a row of
Google's numpy_bitmap files as committed in those repositories.

Recognised blobs (in any commit of a mirror, by default; --head-only for HEAD only):
  * ``<name>.npy``      a numpy file holding uint8 bitmaps, shape (N, 784), (N, 1, 784) or (N, 28, 28)
  * ``<name>.bin``      raw bitmaps, 784 bytes per drawing, no header (as in Daniel Shiffman's
                        Coding Train doodle-classifier examples, e.g. ``cats1000.bin``)
``<name>`` is mapped to one of the 345 Quick, Draw! category names: a ``full_numpy_bitmap_``
prefix, a ``my.`` prefix, a ``.test.data...`` tail and a trailing count (``cats1000``) are
dropped, ``_`` means a space, and a plural ``s`` is dropped when that gives a category.
Git LFS pointers, web pages saved as .npy, and arrays that do not look like Google's bitmaps
(dtype, size, mostly-black background, ink level) are skipped and reported.

Drawings of one class from several blobs/mirrors are merged in the order the mirrors are given
(within a mirror: newest commit first, then path order) and deduplicated byte-for-byte, so the
copies of the same Google rows that several repositories committed count once.

Output (--out): ``<class>.npy`` (uint8 (N, 28, 28)), ``classes.csv``
(file,label,repo,commit,licence,path_in_repo; several sources are joined with " ; ") and
``SOURCE.md``.  Per-class counts are printed.

Usage:
  python scripts/data/build_quickdraw.py --out /work/data/quickdraw \\
      --mirror /work/.mirror/sukumr+Doodle-Classifier/repo --mirror ...
"""
from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import io
import os
import re
import subprocess
import sys
from collections import OrderedDict, defaultdict

import numpy as np

from gitmirror import BlobReader, git, repo_name  # noqa: E402 (this folder; run as a script)

DATA_LICENCE = "CC BY 4.0 (Quick, Draw! Dataset, Google)"

CATEGORIES = """aircraft carrier|airplane|alarm clock|ambulance|angel|animal migration|ant|anvil|apple|arm|
asparagus|axe|backpack|banana|bandage|barn|baseball|baseball bat|basket|basketball|bat|bathtub|beach|
bear|beard|bed|bee|belt|bench|bicycle|binoculars|bird|birthday cake|blackberry|blueberry|book|
boomerang|bottlecap|bowtie|bracelet|brain|bread|bridge|broccoli|broom|bucket|bulldozer|bus|bush|
butterfly|cactus|cake|calculator|calendar|camel|camera|camouflage|campfire|candle|cannon|canoe|car|
carrot|castle|cat|ceiling fan|cello|cell phone|chair|chandelier|church|circle|clarinet|clock|cloud|
coffee cup|compass|computer|cookie|cooler|couch|cow|crab|crayon|crocodile|crown|cruise ship|cup|
diamond|dishwasher|diving board|dog|dolphin|donut|door|dragon|dresser|drill|drums|duck|dumbbell|ear|
elbow|elephant|envelope|eraser|eye|eyeglasses|face|fan|feather|fence|finger|fire hydrant|fireplace|
firetruck|fish|flamingo|flashlight|flip flops|floor lamp|flower|flying saucer|foot|fork|frog|
frying pan|garden|garden hose|giraffe|goatee|golf club|grapes|grass|guitar|hamburger|hammer|hand|
harp|hat|headphones|hedgehog|helicopter|helmet|hexagon|hockey puck|hockey stick|horse|hospital|
hot air balloon|hot dog|hot tub|hourglass|house|house plant|hurricane|ice cream|jacket|jail|kangaroo|
key|keyboard|knee|knife|ladder|lantern|laptop|leaf|leg|light bulb|lighter|lighthouse|lightning|line|
lion|lipstick|lobster|lollipop|mailbox|map|marker|matches|megaphone|mermaid|microphone|microwave|
monkey|moon|mosquito|motorbike|mountain|mouse|moustache|mouth|mug|mushroom|nail|necklace|nose|ocean|
octagon|octopus|onion|oven|owl|paintbrush|paint can|palm tree|panda|pants|paper clip|parachute|
parrot|passport|peanut|pear|peas|pencil|penguin|piano|pickup truck|picture frame|pig|pillow|
pineapple|pizza|pliers|police car|pond|pool|popsicle|postcard|potato|power outlet|purse|rabbit|
raccoon|radio|rain|rainbow|rake|remote control|rhinoceros|rifle|river|roller coaster|rollerskates|
sailboat|sandwich|saw|saxophone|school bus|scissors|scorpion|screwdriver|sea turtle|see saw|shark|
sheep|shoe|shorts|shovel|sink|skateboard|skull|skyscraper|sleeping bag|smiley face|snail|snake|
snorkel|snowflake|snowman|soccer ball|sock|speedboat|spider|spoon|spreadsheet|square|squiggle|
squirrel|stairs|star|steak|stereo|stethoscope|stitches|stop sign|stove|strawberry|streetlight|
string bean|submarine|suitcase|sun|swan|sweater|swing set|sword|syringe|table|teapot|teddy-bear|
telephone|television|tennis racquet|tent|The Eiffel Tower|The Great Wall of China|The Mona Lisa|
tiger|toaster|toe|toilet|tooth|toothbrush|toothpaste|tornado|tractor|traffic light|train|tree|
triangle|trombone|truck|trumpet|t-shirt|umbrella|underwear|van|vase|violin|washing machine|
watermelon|waterslide|whale|wheel|windmill|wine bottle|wine glass|wristwatch|yoga|zebra|zigzag"""
CATEGORY_SET = {c.strip() for c in CATEGORIES.replace("\n", "").split("|") if c.strip()}
_LOWER = {c.lower(): c for c in CATEGORY_SET}
_SQUASHED = {re.sub(r"[^a-z]", "", c.lower()): c for c in CATEGORY_SET}
# short file names that tutorials use for one category; each checked by byte-identical rows or by eye
_ALIASES = {"smiley": "smiley face", "mona": "The Mona Lisa", "monalisa": "The Mona Lisa",
            "plant": "house plant", "eiffel": "The Eiffel Tower"}

PIX = 784
NPY_MAGIC = b"\x93NUMPY"


# ---------------------------------------------------------------- git helpers
def detect_licence(gitdir: str) -> str:
    """The licence named by a LICENSE/COPYING file at HEAD, or a note that there is none."""
    try:
        names = git(gitdir, "ls-tree", "--name-only", "HEAD").decode(errors="replace").splitlines()
    except subprocess.CalledProcessError:
        return "unknown (HEAD unreadable)"
    for n in names:
        if re.match(r"(?i)^(licen[cs]e|copying)(\.(md|txt|rst))?$", n):
            try:
                text = git(gitdir, "cat-file", "-p", "HEAD:" + n).decode(errors="replace")
            except subprocess.CalledProcessError:
                continue
            head = text[:2000]
            for pat, name in ((r"MIT License|Permission is hereby granted, free of charge", "MIT"),
                              (r"Apache License", "Apache-2.0"),
                              (r"GNU GENERAL PUBLIC LICENSE", "GPL"),
                              (r"BSD", "BSD"),
                              (r"Creative Commons", "Creative Commons"),
                              (r"Unlicense|public domain", "Unlicense/public domain")):
                if re.search(pat, head, re.I):
                    return f"{name} ({n} at HEAD)"
            return f"see {n} at HEAD"
    return "no licence file in repository (code unlicensed; the drawings are Google's, CC BY 4.0)"


# ---------------------------------------------------------------- names and parsing
def category_of(path: str) -> str | None:
    base = os.path.basename(path)
    stem = re.sub(r"\.(npy|bin)$", "", base, flags=re.I)
    s = stem
    s = re.sub(r"^full_numpy_bitmap_", "", s, flags=re.I)
    s = re.sub(r"^my\.", "", s, flags=re.I)
    s = re.sub(r"\.(test|train|training)\.data.*$", "", s, flags=re.I)
    s = re.sub(r"[_ ]?\d+$", "", s)
    cands = [s, s.replace("_", " "), s.replace("_", " ").replace("-", " ")]
    for c in list(cands):
        if c.endswith("es"):
            cands.append(c[:-2])
        if c.endswith("s"):
            cands.append(c[:-1])
    for c in cands:
        hit = _LOWER.get(c.strip().lower())
        if hit:
            return hit
    # looser forms: CamelCase / run-together names ("HotAirBalloon", "flipflops", "EiffelTower"),
    # a "Data"/"_data" tail ("appleData"), and a few short names that tutorials use for one category
    key = re.sub(r"[^a-z]", "", s.lower())
    key = re.sub(r"data$", "", key) or key
    for k in (key, key[:-2] if key.endswith("es") else None, key[:-1] if key.endswith("s") else None):
        if not k:
            continue
        hit = _SQUASHED.get(k) or _SQUASHED.get("the" + k) or _ALIASES.get(k)
        if hit:
            return hit
    return None


def parse_bitmaps(data: bytes, path: str) -> tuple[np.ndarray | None, str]:
    """(rows (N, 784) uint8, '') or (None, why-not)."""
    if data is None:
        return None, "blob absent from the snapshot (>= 4 MiB or not fetched)"
    if data.startswith(b"version https://git-lfs"):
        return None, "Git LFS pointer"
    if data.startswith(NPY_MAGIC):
        try:
            a = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - report any malformed file
            return None, f"unreadable .npy ({e})"
        if a.dtype != np.uint8:
            return None, f".npy of dtype {a.dtype}, not uint8"
        if a.size == 0 or a.size % PIX or a.shape[-1] not in (784, 28):
            return None, f".npy of shape {a.shape}, not 28x28 bitmaps"
        return np.ascontiguousarray(a.reshape(-1, PIX)), ""
    if path.lower().endswith(".npy"):
        return None, "not a numpy file (e.g. a saved web page)"
    if len(data) and len(data) % PIX == 0:
        return np.frombuffer(data, np.uint8).reshape(-1, PIX), ""
    return None, f"{len(data)} bytes, not a whole number of 784-byte bitmaps"


def looks_like_google(rows: np.ndarray) -> tuple[bool, str]:
    """Google's numpy_bitmap rows: black background, bright ink, drawing scaled to fill the box."""
    imgs = rows.reshape(-1, 28, 28).astype(np.float32)
    mean = float(imgs.mean())
    zero = float((imgs == 0).mean())
    border = float(np.concatenate([imgs[:, 0], imgs[:, -1], imgs[:, :, 0], imgs[:, :, -1]], 1).mean())
    ok = 10.0 <= mean <= 120.0 and zero >= 0.5 and border < mean
    return ok, f"mean {mean:.1f}, zero-fraction {zero:.2f}, border mean {border:.1f}"


# ---------------------------------------------------------------- main work
def scan_mirror(gitdir: str, head_only: bool):
    """Yield (path, blob sha, commit) for every .npy/.bin blob, newest commit first, each blob once."""
    revs = ["HEAD"] if head_only else git(gitdir, "rev-list", "--all").decode().split()
    seen = set()
    for rev in revs:
        commit = git(gitdir, "rev-parse", rev).decode().strip()
        out = git(gitdir, "ls-tree", "-r", "-z", commit).decode(errors="replace")
        entries = []
        for ent in out.split("\0"):
            if not ent:
                continue
            meta, path = ent.split("\t", 1)
            mode, typ, sha = meta.split()
            if typ == "blob" and re.search(r"\.(npy|bin)$", path, re.I) and sha not in seen:
                seen.add(sha)
                entries.append((path, sha, commit))
        yield from sorted(entries)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", action="append", required=True,
                    help="bare git mirror (repeatable; earlier mirrors come first in each class)")
    ap.add_argument("--out", required=True, help="output folder, e.g. $TEXTANCHOR_DATA/quickdraw")
    ap.add_argument("--min-per-class", type=int, default=400,
                    help="drop classes with fewer drawings (default 400)")
    ap.add_argument("--max-per-class", type=int, default=10000, help="keep at most this many (default 10000)")
    ap.add_argument("--head-only", action="store_true", help="read HEAD only, not the whole history")
    args = ap.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    rows_by_class: dict[str, list[np.ndarray]] = defaultdict(list)
    hashes_by_class: dict[str, set] = defaultdict(set)
    # class -> OrderedDict[(repo, commit, path)] -> count of new rows
    prov: dict[str, OrderedDict] = defaultdict(OrderedDict)
    repo_info = OrderedDict()
    skipped = []
    overlap = defaultdict(int)  # (class) -> rows seen again from another blob

    for gitdir in args.mirror:
        repo = repo_name(gitdir)
        lic = detect_licence(gitdir)
        head = git(gitdir, "rev-parse", "HEAD").decode().strip()
        repo_info[repo] = {"licence": lic, "head": head, "mirror": gitdir}
        reader = BlobReader(gitdir)
        try:
            for path, sha, commit in scan_mirror(gitdir, args.head_only):
                label = category_of(path)
                if label is None:
                    continue
                rows, why = parse_bitmaps(reader.read(sha), path)
                if rows is None:
                    skipped.append((repo, commit, path, why))
                    continue
                ok, stats = looks_like_google(rows)
                if not ok:
                    skipped.append((repo, commit, path, "does not look like Google's bitmaps: " + stats))
                    continue
                new = []
                hs = hashes_by_class[label]
                for r in rows:
                    h = hashlib.blake2b(r.tobytes(), digest_size=16).digest()
                    if h in hs:
                        overlap[label] += 1
                        continue
                    hs.add(h)
                    new.append(r)
                if new:
                    rows_by_class[label].append(np.stack(new))
                    prov[label][(repo, commit, path)] = len(new)
                else:
                    prov[label].setdefault((repo, commit, path), 0)
        finally:
            reader.close()

    written = []
    dropped = []
    for label in sorted(rows_by_class, key=str.lower):
        a = np.concatenate(rows_by_class[label])[: args.max_per_class]
        if len(a) < args.min_per_class:
            dropped.append((label, len(a)))
            continue
        fname = label.replace(" ", "_") + ".npy"
        np.save(os.path.join(args.out, fname), a.reshape(-1, 28, 28))
        # provenance of the rows actually kept
        kept, left = [], len(a)
        for key, n in prov[label].items():
            if left <= 0:
                break
            if n == 0:
                continue
            take = min(n, left)
            kept.append((key, take))
            left -= take
        written.append((label, fname, len(a), kept, looks_like_google(a)[1]))

    with open(os.path.join(args.out, "classes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        # rendered: "no" = every row is a byte-for-byte copy of Google's numpy_bitmap rows (nothing
        # was drawn from strokes by this script); kept as a column so that rendered classes can be told apart
        w.writerow(["file", "label", "repo", "commit", "licence", "path_in_repo", "rendered"])
        for label, fname, n, kept, _ in written:
            repos = list(OrderedDict.fromkeys(k[0] for k, _ in kept))
            w.writerow([fname, label,
                        " ; ".join(f"https://github.com/{r}" for r in repos),
                        " ; ".join(k[1] for k, _ in kept),
                        " ; ".join(OrderedDict.fromkeys(
                            [DATA_LICENCE] + [f"repo {r}: {repo_info[r]['licence']}" for r in repos])),
                        " ; ".join(f"{k[0]}:{k[2]}" for k, _ in kept), "no"])

    skipped = _unique_skips(skipped)
    write_source_md(args, written, dropped, skipped, repo_info, overlap)

    print(f"{'class':<22}{'drawings':>9}  sources")
    for label, fname, n, kept, _ in written:
        print(f"{label:<22}{n:>9}  " + ", ".join(f"{k[0]}:{os.path.basename(k[2])}({c})" for k, c in kept))
    counts = [n for _, _, n, _, _ in written]
    if counts:
        print(f"{len(written)} classes, {sum(counts)} drawings; per class min {min(counts)}, "
              f"median {int(np.median(counts))}, max {max(counts)}")
    for label, n in dropped:
        print(f"dropped {label}: only {n} drawings (< --min-per-class {args.min_per_class})")
    for repo, commit, path, why in skipped:
        print(f"skipped {repo}@{commit[:10]}:{path}: {why}", file=sys.stderr)
    return 0 if written else 1


def _unique_skips(skipped):
    seen, out = set(), []
    for repo, commit, path, why in skipped:
        if (repo, path, why) not in seen:
            seen.add((repo, path, why))
            out.append((repo, commit, path, why))
    return out


def write_source_md(args, written, dropped, skipped, repo_info, overlap):
    lines = []
    add = lines.append
    add("# Quick, Draw! bitmaps (28x28) - where every file came from")
    add("")
    add(f"Built {datetime.date.today().isoformat()} by `scripts/data/build_quickdraw.py` of the "
        "textanchor repository, from bare git mirrors of public GitHub repositories (no download).")
    add("")
    add("**Data:** the Quick, Draw! Dataset (Jongejan, Rowley, Kawashima, Kim, Fox-Gieg; Google 2016), "
        "`numpy_bitmap` format: 28x28 uint8, ink bright (up to 255) on black (0), each drawing "
        "centred and scaled by Google. Licence: **CC BY 4.0** (Google), "
        "https://creativecommons.org/licenses/by/4.0/ - attribution: \"Quick, Draw! Dataset, Google\".")
    add("")
    add("**What was done:** rows were copied byte for byte out of `.npy` / raw `.bin` (784 bytes per "
        "drawing) files that the repositories below committed; those files are slices of Google's "
        "`full/numpy_bitmap/<class>.npy`. Nothing was re-rendered, resized or inverted. Rows of one "
        "class from several files were concatenated (mirror order, newest commit first) and "
        "deduplicated byte-for-byte; then cut to at most "
        f"{args.max_per_class} per class and saved as uint8 (N, 28, 28). Classes with fewer than "
        f"{args.min_per_class} drawings were dropped. The loader holds out the last 100 of each class "
        "as test.")
    add("")
    add("**Rendered:** none. classes.csv has a column `rendered` (yes/no); every class here is `no`: "
        "no drawing was rendered from strokes (sketch-rnn / ndjson) by this script.")
    add("")
    add("**File names:** besides Google's names, tutorials' short or run-together names were mapped to "
        "categories: `smiley` -> smiley face, `plants` -> house plant, `mona` -> The Mona Lisa, CamelCase "
        "(`HotAirBalloon`, `EiffelTower`) and `flipflops`, a `Data` tail (`cloudData`). smiley and plants were "
        "confirmed by rows byte-identical to files named `smiley_face` / `HousePlant` in other repositories; "
        "`mona1000.bin` (one source) was checked by eye.")
    add("")
    add("**Style check:** these are Google's own bitmaps, not a re-rendering: independent "
        "repositories committed byte-identical rows (e.g. the Coding Train's `cats1000.bin` rows are "
        "rows 0, 100, 200, ... of sukumr/Doodle-Classifier's `cat.npy`), and the per-class statistics "
        "below (mean intensity about 30-60, 60-80 % of the pixels exactly 0, black border) are those of the "
        "numpy_bitmap files.")
    add("")
    add("## Source repositories")
    add("")
    add("| repository | HEAD commit of the mirror | licence of the repository |")
    add("| --- | --- | --- |")
    for repo, info in repo_info.items():
        add(f"| https://github.com/{repo} | `{info['head']}` | {info['licence']} |")
    add("")
    add("## Classes")
    add("")
    counts = [n for _, _, n, _, _ in written]
    if counts:
        add(f"{len(written)} classes, {sum(counts)} drawings; per class min {min(counts)}, "
            f"median {int(np.median(counts))}, max {max(counts)}.")
        add("")
    add("| class | file | drawings | duplicate rows dropped | statistics | sources: repo @ commit : path (rows kept) |")
    add("| --- | --- | ---: | ---: | --- | --- |")
    for label, fname, n, kept, stats in written:
        src = "<br>".join(f"{k[0]} @ `{k[1][:12]}` : `{k[2]}` ({c})" for k, c in kept)
        add(f"| {label} | `{fname}` | {n} | {overlap.get(label, 0)} | {stats} | {src} |")
    if dropped:
        add("")
        add("Dropped for too few drawings: " + ", ".join(f"{l} ({n})" for l, n in dropped) + ".")
    if skipped:
        add("")
        add("## Files seen but not used")
        add("")
        for repo, commit, path, why in skipped:
            add(f"- {repo} @ `{commit[:12]}` : `{path}` - {why}")
    add("")
    add("## How to rebuild")
    add("")
    add("Fetch the mirrors (bare git snapshots of the repositories above), then:")
    add("")
    add("```")
    cmd = ["python scripts/data/build_quickdraw.py", f"--out {args.out}"]
    cmd += [f"--mirror {info['mirror']}" for info in repo_info.values()]
    if args.head_only:
        cmd.append("--head-only")
    add(" \\\n    ".join(cmd))
    add("```")
    add("")
    add("The script reads every commit of each mirror (older commits hold files that later commits "
        "deleted), so the result depends only on the mirrors' contents and the order they are given.")
    with open(os.path.join(args.out, "SOURCE.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())

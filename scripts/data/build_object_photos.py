#!/usr/bin/env python3
"""Build the ``object_photos`` folder (photos of everyday things) from git mirrors.

The photos are read straight out of bare git mirrors of public GitHub repositories
that committed (parts of) well-known photo sets; nothing is downloaded here.  Each
mirror is scanned for the layouts below (any folder prefix is allowed):

  * Caltech-101 (Li, Andreetto, Ranzato, Perona 2003; CaltechDATA
    doi:10.22002/D1.20086, CC BY 4.0):
        ``.../101_ObjectCategories/<category>/image_NNNN.jpg``
    Caltech-101 has no published train/test split: official_split is left empty.
  * Oxford-IIIT Pet (Parkhi, Vedaldi, Zisserman, Jawahar 2012):
        ``.../images/<Breed>_<n>.jpg`` next to ``.../annotations/list.txt``
    species 1 = cat, 2 = dog; official_split from annotations/trainval.txt
    ("train") and annotations/test.txt ("test").
  * TensorFlow ``flower_photos`` (tf_flowers; CC BY 2.0, photographers listed in
    the archive's LICENSE.txt):
        ``.../(daisy|dandelion|roses|sunflowers|tulips)/<flickr id>_<secret>[_m|_n].jpg``
    A repository's own train/val folders are not a published split: left empty.

Labels are plain English.  A source category that is a kind of one of the shared
classes wanted by textanchor (dog, cat, bird, flower, tree, boat, ...) is mapped to
that class (e.g. Caltech "dalmatian" -> "dog", pet breeds -> "cat"/"dog",
"rooster"/"ibis"/... -> "bird"); other categories keep their own name in plain
words ("car_side" -> "car", "grand_piano" -> "piano").  ``--fine-flowers`` keeps the
five tf_flowers species (and Caltech sunflower/lotus/water lily) apart instead.

Every blob must open with PIL and be at least --min-side pixels on its shorter
side; Git LFS pointers are skipped.  Files are deduplicated by content hash (the
first mirror given wins).  RGB JPEG/PNG files are copied unchanged; other modes
(greyscale, CMYK, palette) are converted to RGB and written again in the same
format (JPEG quality 95).  Classes with fewer than --min-count photos are dropped;
at most --max-per-class photos are kept per class (a stable choice by content hash).

Output: <out>/images/<label>/<set>_<category>_<file>, <out>/labels.csv
(path,label,set,official_split,repo,commit,licence,path_in_repo) and <out>/SOURCE.md.

Usage:
  python scripts/data/build_object_photos.py \
      --mirror /work/.mirror/Nicordaro+Homework2-Caltech101/repo/.git \
      --mirror /work/.mirror/Naveen-Dodda+Sample_Pets_dataset/repo \
      --mirror /work/.mirror/Oldpel+flower_photos/repo \
      --out /work/data/object_photos
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import shutil
import sys
from collections import Counter, defaultdict

from PIL import Image

from gitmirror import BlobReader, git, repo_name  # noqa: E402 (this folder; run as a script)

LIC_CALTECH101 = "CC BY 4.0 (Caltech-101, CaltechDATA doi:10.22002/D1.20086)"
LIC_PETS = ("Oxford-IIIT Pet: annotations CC BY-SA 4.0; images keep the terms of the web sites "
            "they were taken from (research use, see annotations/README)")
LIC_FLOWERS = "CC BY 2.0 (tf_flowers flower_photos; photographers credited in its LICENSE.txt)"

# Caltech-101 category -> plain English label (None: left out).
CALTECH101 = {
    "airplanes": "airplane", "Motorbikes": "motorbike", "car_side": "car",
    "Faces": "face", "Faces_easy": None, "BACKGROUND_Google": None,
    "Leopards": "leopard", "watch": "watch", "bonsai": "tree", "joshua_tree": "tree",
    "ketch": "boat", "schooner": "boat", "ferry": "boat",
    "chandelier": "chandelier", "hawksbill": "sea turtle", "grand_piano": "piano",
    "brain": "brain", "butterfly": "butterfly", "helicopter": "helicopter",
    "menorah": "menorah", "trilobite": "trilobite", "starfish": "starfish",
    "kangaroo": "kangaroo", "sunflower": "flower", "lotus": "flower", "water_lilly": "flower",
    "ewer": "jug", "buddha": "buddha statue", "scorpion": "scorpion", "revolver": "revolver",
    "laptop": "laptop", "ibis": "bird", "flamingo": "bird", "flamingo_head": "bird",
    "rooster": "bird", "pigeon": "bird", "emu": "bird", "llama": "llama",
    "minaret": "minaret", "umbrella": "umbrella", "electric_guitar": "guitar",
    "crab": "crab", "crayfish": "crayfish", "cougar_face": "cougar", "cougar_body": "cougar",
    "dragonfly": "dragonfly", "dalmatian": "dog", "dolphin": "dolphin",
    "stop_sign": "stop sign", "soccer_ball": "soccer ball", "euphonium": "euphonium",
    "elephant": "elephant", "chair": "chair", "windsor_chair": "chair", "lamp": "lamp",
    "yin_yang": "yin yang", "wheelchair": "wheelchair", "stegosaurus": "stegosaurus",
    "rhino": "rhino", "cellphone": "cell phone", "sea_horse": "seahorse", "pyramid": "pyramid",
    "cup": "cup", "nautilus": "nautilus", "accordion": "accordion", "hedgehog": "hedgehog",
    "bass": "fish", "pizza": "pizza", "dollar_bill": "dollar bill", "gramophone": "gramophone",
    "crocodile": "crocodile", "crocodile_head": "crocodile", "camera": "camera",
    "tick": "tick", "pagoda": "pagoda", "ceiling_fan": "ceiling fan", "barrel": "barrel",
    "beaver": "beaver", "stapler": "stapler", "mandolin": "mandolin", "cannon": "cannon",
    "brontosaurus": "brontosaurus", "headphone": "headphones", "ant": "ant", "anchor": "anchor",
    "lobster": "lobster", "saxophone": "saxophone", "mayfly": "mayfly", "wrench": "wrench",
    "scissors": "scissors", "okapi": "okapi", "panda": "panda", "strawberry": "strawberry",
    "octopus": "octopus", "wild_cat": None, "platypus": "platypus", "gerenuk": "gerenuk",
    "binocular": "binoculars", "metronome": "metronome", "inline_skate": "inline skate",
    "snoopy": None, "garfield": None,  # cartoon drawings, not photos
}
FINE_FLOWERS = {"sunflower": "sunflower", "lotus": "lotus", "water_lilly": "water lily"}
TF_FLOWERS = {"daisy": "daisy", "dandelion": "dandelion", "roses": "rose",
              "sunflowers": "sunflower", "tulips": "tulip"}

CALTECH_RE = re.compile(r"(?:^|/)101_ObjectCategories/([^/]+)/(image_\d+\.jpg)$")
FLOWER_RE = re.compile(r"(?:^|/)(daisy|dandelion|roses|sunflowers|tulips)/(\d+_[0-9a-f]+(?:_[mn])?\.jpg)$")
PET_RE = re.compile(r"(?:^|/)images/(([A-Za-z_]+)_(\d+))\.jpg$")
LFS_MARK = b"version https://git-lfs.github.com/spec/"


def list_tree(gitdir: str) -> dict[str, str]:
    """path -> blob sha of the HEAD tree."""
    out = {}
    for line in git(gitdir, "ls-tree", "-r", "-z", "HEAD").split(b"\0"):
        if not line:
            continue
        meta, path = line.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob":
            out[path.decode("utf-8", "surrogateescape")] = sha.decode()
    return out


def pet_tables(tree: dict[str, str], reader: BlobReader, images_dir: str):
    """species and official split per pet image name, from the annotations next to images/."""
    base = images_dir[: -len("images")]
    species, split = {}, {}
    lst = tree.get(base + "annotations/list.txt")
    if lst is None:
        return None, None
    for line in (reader.read(lst) or b"").decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            species[parts[0]] = "cat" if parts[2] == "1" else "dog"
    for name, tag in (("trainval.txt", "train"), ("test.txt", "test")):
        sha = tree.get(base + "annotations/" + name)
        if sha:
            for line in (reader.read(sha) or b"").decode("utf-8", "replace").splitlines():
                if line.split():
                    split[line.split()[0]] = tag
    return species, split


def candidates(gitdir: str, tree: dict[str, str], reader: BlobReader, fine_flowers: bool):
    """Yield (set, category, label, official_split, licence, path, sha)."""
    pet_cache = {}
    for path, sha in sorted(tree.items()):
        m = CALTECH_RE.search(path)
        if m:
            cat, fname = m.groups()
            label = CALTECH101.get(cat)
            if fine_flowers and cat in FINE_FLOWERS:
                label = FINE_FLOWERS[cat]
            if label:
                yield "caltech101", cat, label, "", LIC_CALTECH101, path, sha, fname
            continue
        m = FLOWER_RE.search(path)
        if m:
            cat, fname = m.groups()
            label = TF_FLOWERS[cat] if fine_flowers else "flower"
            yield "tf_flowers", cat, label, "", LIC_FLOWERS, path, sha, fname
            continue
        m = PET_RE.search(path)
        if m:
            images_dir = path[: m.start() + (1 if path[m.start()] == "/" else 0)] + "images"
            if images_dir not in pet_cache:
                pet_cache[images_dir] = pet_tables(tree, reader, images_dir)
            species, split = pet_cache[images_dir]
            name, breed = m.group(1), m.group(2)
            if species is None:
                continue
            # files missing from list.txt: the data set's rule (capitalised breed = cat)
            kind = species.get(name) or ("cat" if breed[:1].isupper() else "dog")
            yield "oxford_pets", breed, kind, split.get(name, ""), LIC_PETS, path, sha, name + ".jpg"


def check_image(data: bytes, min_side: int):
    """(format, mode, width, height) or None when the blob is not a usable picture."""
    if not data or data.startswith(LFS_MARK):
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            fmt, mode, (w, h) = im.format, im.mode, im.size
    except Exception:
        return None
    if fmt not in ("JPEG", "PNG") or min(w, h) < min_side:
        return None
    return fmt, mode, w, h


def to_rgb_bytes(data: bytes, fmt: str) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    buf = io.BytesIO()
    if fmt == "JPEG":
        rgb.save(buf, "JPEG", quality=95)
    else:
        rgb.save(buf, "PNG")
    return buf.getvalue()


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", action="append", required=True,
                    help="bare git mirror to read (repeatable; the first one wins on duplicates)")
    ap.add_argument("--out", required=True, help="output folder (e.g. $TEXTANCHOR_DATA/object_photos)")
    ap.add_argument("--min-side", type=int, default=64, help="smallest allowed shorter side (px)")
    ap.add_argument("--min-count", type=int, default=50, help="drop classes with fewer photos")
    ap.add_argument("--max-per-class", type=int, default=1000, help="keep at most this many per class")
    ap.add_argument("--fine-flowers", action="store_true",
                    help="label flower species (daisy, rose, ...) instead of 'flower'")
    args = ap.parse_args(argv)

    seen_hash = set()
    rows = []          # dicts (without path), plus data kept on disk later
    blobs = {}         # index -> (gitdir, sha)
    sources = []
    skipped = Counter()
    for gitdir in args.mirror:
        repo = repo_name(gitdir)
        commit = git(gitdir, "rev-parse", "HEAD").decode().strip()
        tree = list_tree(gitdir)
        reader = BlobReader(gitdir)
        n0 = len(rows)
        for set_, cat, label, split, lic, path, sha, fname in candidates(gitdir, tree, reader,
                                                                        args.fine_flowers):
            data = reader.read(sha) or b""
            info = check_image(data, args.min_side)
            if info is None:
                skipped["unreadable, LFS pointer or too small"] += 1
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen_hash:
                skipped["duplicate content"] += 1
                continue
            seen_hash.add(digest)
            fmt, mode, w, h = info
            rows.append({"label": label, "set": set_, "official_split": split, "repo": repo,
                         "commit": commit, "licence": lic, "path_in_repo": path,
                         "_cat": cat, "_fname": fname, "_hash": digest, "_fmt": fmt,
                         "_mode": mode, "_w": w, "_h": h})
            blobs[len(rows) - 1] = (gitdir, sha)
        reader.close()
        sources.append((repo, commit, len(rows) - n0))
        print(f"{repo}@{commit[:10]}: {len(rows) - n0} photos", file=sys.stderr)

    by_label = defaultdict(list)
    for i, r in enumerate(rows):
        by_label[r["label"]].append(i)
    keep = []
    dropped = {}
    for label, idx in sorted(by_label.items()):
        if len(idx) < args.min_count:
            dropped[label] = len(idx)
            continue
        if len(idx) > args.max_per_class:
            idx = sorted(idx, key=lambda i: rows[i]["_hash"])[: args.max_per_class]
        keep.extend(sorted(idx))

    out = args.out
    img_root = os.path.join(out, "images")
    if os.path.isdir(img_root):
        shutil.rmtree(img_root)
    os.makedirs(img_root, exist_ok=True)
    readers = {}
    converted = 0
    final = []
    for i in keep:
        r = rows[i]
        gitdir, sha = blobs[i]
        if gitdir not in readers:
            readers[gitdir] = BlobReader(gitdir)
        data = readers[gitdir].read(sha) or b""
        if r["_mode"] != "RGB":
            data = to_rgb_bytes(data, r["_fmt"])
            converted += 1
        ext = ".png" if r["_fmt"] == "PNG" else ".jpg"
        stem = os.path.splitext(r["_fname"])[0]
        rel = f"images/{safe(r['label'])}/{r['set']}_{safe(r['_cat'])}_{safe(stem)}{ext}"
        dest = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        r["path"] = rel
        final.append(r)
    for rd in readers.values():
        rd.close()

    final.sort(key=lambda r: r["path"])
    cols = ["path", "label", "set", "official_split", "repo", "commit", "licence", "path_in_repo"]
    with open(os.path.join(out, "labels.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(final)
    write_source_md(out, args, sources, final, dropped, skipped, converted)
    counts = Counter(r["label"] for r in final)
    print(f"{len(final)} photos, {len(counts)} classes -> {out}", file=sys.stderr)
    return 0


def write_source_md(out, args, sources, final, dropped, skipped, converted):
    counts = Counter(r["label"] for r in final)
    per_set = defaultdict(Counter)
    splits = defaultdict(Counter)
    for r in final:
        per_set[r["label"]][r["set"]] += 1
        splits[r["set"]][r["official_split"] or "(none)"] += 1
    sides = [min(r["_w"], r["_h"]) for r in final]
    longs = [max(r["_w"], r["_h"]) for r in final]
    used = Counter((r["repo"], r["commit"], r["set"], r["licence"]) for r in final)
    L = ["# object_photos", "",
         "Photos of everyday things for textanchor (`textanchor/data/object_photos.py`).",
         "Built by `scripts/data/build_object_photos.py` from bare git mirrors of public GitHub",
         "repositories that committed parts of well-known photo sets; every file is the blob",
         "at the commit below (files not in RGB were converted to RGB, see below).", "",
         "## Sources", "",
         "| repository | commit | set | licence | photos kept |", "| --- | --- | --- | --- | --- |"]
    for (repo, commit, set_, lic), n in sorted(used.items()):
        L.append(f"| https://github.com/{repo} | `{commit}` | {set_} | {lic} | {n} |")
    L += ["", "Mirrors read (photos found before class filtering):", ""]
    for repo, commit, n in sources:
        L.append(f"- https://github.com/{repo} @ `{commit}`: {n}")
    L += ["", "Original data sets:", "",
          "- Caltech-101: Li, Andreetto, Ranzato, Perona (2022). Caltech 101 (1.0) [Data set]. "
          "CaltechDATA. https://doi.org/10.22002/D1.20086 (CC BY 4.0). No published split.",
          "- Oxford-IIIT Pet: Parkhi, Vedaldi, Zisserman, Jawahar, Cats and Dogs, CVPR 2012, "
          "https://www.robots.ox.ac.uk/~vgg/data/pets/ ; the data set page gives CC BY-SA 4.0, "
          "its annotations/README says the images are for research use and keep the terms of the "
          "sites they came from. Published split: annotations/trainval.txt (train) and test.txt (test).",
          "- tf_flowers (`flower_photos`, TensorFlow team): Flickr photos under CC BY 2.0, "
          "photographers listed in the archive's LICENSE.txt (not present in the mirror). No published split.",
          "", "## Classes", "",
          f"{len(final)} photos in {len(counts)} classes.", "",
          "| label | photos | from |", "| --- | --- | --- |"]
    for label in sorted(counts):
        src = ", ".join(f"{s} {n}" for s, n in sorted(per_set[label].items()))
        L.append(f"| {label} | {counts[label]} | {src} |")
    if dropped:
        L += ["", f"Left out (fewer than {args.min_count} photos): "
              + ", ".join(f"{k} ({v})" for k, v in sorted(dropped.items())) + "."]
    L += ["", "## Splits", ""]
    for set_, c in sorted(splits.items()):
        L.append(f"- {set_}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    L += ["", "Files without an official split are split by the loader with a stable hash of the path.",
          "", "## Images", "",
          f"- shorter side {min(sides)}-{max(sides)} px (median {sorted(sides)[len(sides) // 2]}), "
          f"longer side {min(longs)}-{max(longs)} px.",
          f"- {converted} files were not RGB (mostly greyscale JPEGs, e.g. all Caltech-101 `car_side`) "
          "and were converted to RGB and re-encoded (JPEG quality 95).",
          "- skipped while reading: " + (", ".join(f"{k} {v}" for k, v in skipped.items()) or "none") + ".",
          f"- at most {args.max_per_class} photos per class (stable choice by content hash); "
          f"shorter side >= {args.min_side} px.",
          "", "## Labels", "",
          "Plain English. Categories that are a kind of a shared class are merged into it: Caltech "
          "dalmatian -> dog; pet breeds -> cat / dog; Caltech ibis, flamingo, flamingo_head, rooster, "
          "pigeon, emu -> bird; sunflower, lotus, water_lilly and all tf_flowers -> flower "
          "(unless --fine-flowers); bonsai, joshua_tree -> tree; ketch, schooner, ferry -> boat; "
          "bass -> fish; chair + windsor_chair -> chair; cougar_face + cougar_body -> cougar; "
          "crocodile + crocodile_head -> crocodile. Caltech Faces_easy (crops of Faces), "
          "BACKGROUND_Google, wild_cat and the cartoon classes snoopy/garfield are left out.",
          "", "## Rebuild", "", "```",
          "python scripts/data/build_object_photos.py \\"]
    for gd in args.mirror:
        L.append(f"    --mirror {gd} \\")
    L += [f"    --out {args.out}" + (" --fine-flowers" if args.fine_flowers else ""), "```", "",
          "Mirrors are bare git copies of the repositories above (e.g. `git clone --mirror`); the",
          "script reads blobs with `git cat-file` and needs only Python and Pillow.", ""]
    with open(os.path.join(out, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    sys.exit(main())

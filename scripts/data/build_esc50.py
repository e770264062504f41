#!/usr/bin/env python3
"""Build the ESC-50 data folder (textanchor/data/esc50.py) from bare git mirrors.

Source: ESC-50 (Piczak 2015, "ESC: Dataset for Environmental Sound Classification",
github.com/karolpiczak/ESC-50): 2,000 five-second clips, 50 classes x 40, five published
folds, cut from Freesound recordings.  Licence: CC BY-NC 3.0 for the data set as a whole;
the ESC-10 subset (meta column esc10=True) is CC BY 3.0 Unported.  Each clip's own Freesound
licence (CC0 / CC-BY / CC-BY-NC / CC-Sampling+) is listed in ESC-50's LICENSE file.

Nothing is downloaded: clips, meta/esc50.csv and the LICENSE file are read out of public
GitHub repositories given as bare git dirs with --mirror (``PATH`` or ``PATH@COMMIT``; without
a commit the mirror's HEAD is used, or, when HEAD holds no clips, the newest commit that does).

Recognised clips (anywhere in a tree):
  * ``{fold}-{freesound id}-{take}-{target}.wav``   ESC-50 v2 layout (audio/*.wav).  A 44.1 kHz
    mono 16-bit copy of 220,500 frames is the clip as published.  Copies at another rate
    (e.g. the 16 kHz folder of the Kaggle mirror) are kept at their own rate, never
    upsampled, and marked "resampled" (use --no-resampled to leave them out).
  * ``NNN - Class/{fold}-{freesound id}-{take}.ogg``  ESC-50/ESC-10 v1.0.0 layout (Ogg Vorbis,
    44.1 kHz, 192 kbit/s).  The published v2 WAVs are these OGGs decoded and cut to 220,500
    frames (zero-padded when shorter); this script does the same (float -> round(x * 32768),
    clipped to int16), which reproduces the published WAV to within 1 LSB.
Every clip is checked against meta/esc50.csv (fold, freesound id, take, target, and the class
folder of v1 files).  For each clip the best copy wins: published WAV > decoded v1 OGG >
resampled WAV; among equals the first --mirror given.  Where two kinds of copy exist the
script compares them (sample difference, or correlation after resampling) and reports it.

Output: <out>/audio/<fold>-<id>-<take>-<target>.wav, <out>/labels.csv (path,label,fold,esc10,
licence,repo,commit,freesound_id,clip_licence,clip_attribution,target,take,source_path,
source_format,sample_rate,frames) and <out>/SOURCE.md.

Usage:
  python scripts/data/build_esc50.py --out data/esc50 \\
      --mirror /work/.mirror/caitlinnguyen0+ESC-50/repo \\
      --mirror /work/.mirror/karolpiczak+ESC-10/repo@553c8f1 \\
      --mirror /work/.mirror/londonreturns+ESC-50_Sound_Classification/repo
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np
import soundfile as sf

from gitmirror import BlobReader, git, list_tree, repo_name  # noqa: E402 (this folder; run as a script)

RATE = 44100
FRAMES = 220500  # 5 s at 44.1 kHz, the published clip length
LICENCE_ALL = "CC BY-NC 3.0"
LICENCE_ESC10 = "CC BY 3.0"
UPSTREAM = "https://github.com/karolpiczak/ESC-50"
META_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
V2_RE = re.compile(r"^(?P<fold>[1-5])-(?P<src>\d+)-(?P<take>[A-Z])-(?P<target>\d{1,2})\.wav$")
V1_RE = re.compile(r"^(?P<fold>[1-5])-(?P<src>\d+)-(?P<take>[A-Z])\.(?P<ext>ogg|flac|wav)$")
V1_DIR_RE = re.compile(r"^(?P<code>\d{3}) - (?P<name>.+)$")
# ESC-10 v1 folders (github.com/karolpiczak/ESC-10) -> ESC-50 category
ESC10_DIRS = {"001": "dog", "002": "rain", "003": "sea_waves", "004": "crying_baby", "005": "clock_tick",
              "006": "sneezing", "007": "helicopter", "008": "chainsaw", "009": "rooster",
              "010": "crackling_fire"}
# LICENSE copies checked by hand against the LICENSE stored for karolpiczak/ESC-50 (commit f2fd956)
KNOWN_LICENSE_BLOBS = {
    "7b7f93640c5d9c62c67bdd68a509991b4db61fbd":
        "the same 284,523 characters as upstream karolpiczak/ESC-50's LICENSE at commit "
        "f2fd956acf66ebd9ac7e2110711aa78dd684d042, and the same text where spot-checked (at character offsets "
        "0, 140000 and 270000) when this script was written",
}
RANK_NAMES = {0: "wav (published ESC-50 v2 file)",
              1: "ogg (ESC v1.0.0 Vorbis, decoded and cut to 220500 frames here)",
              2: "wav (resampled copy, not 44.1 kHz)"}
# "- [1-100032-A.ogg]: clip derived from rose_bark.wav (http://www.freesound.org/...) by nfrae [CC0]";
# upstream has a few irregular lines: two spaces after the colon, no space before "(http",
# and one key typed "5-141683-Ad" (meaning 5-141683-A).
LICENCE_LINE = re.compile(r"^- \[(?P<key>[1-5]-\d+-[A-Z])(?P<typo>[a-z]*)\.ogg\]:\s+clip derived from (?P<orig>.*?)\s*"
                          r"\((?P<url>https?://[^)\s]*)\) by (?P<author>.*) \[(?P<lic>[^\]]+)\]\s*$")


# ----------------------------------------------------------------------------- clips and folds
def clip_key(path: str):
    """(fold, src, take, target or None, kind) for an ESC clip path, else None."""
    base = os.path.basename(path)
    m = V2_RE.match(base)
    if m:
        return m["fold"], m["src"], m["take"], int(m["target"]), "v2"
    m = V1_RE.match(base)
    if m:
        return m["fold"], m["src"], m["take"], None, "v1"
    return None


def count_clips(tree) -> int:
    return sum(1 for p, _, _ in tree if clip_key(p))


def pick_commit(gitdir: str, wanted: str | None) -> str:
    if wanted:
        return git(gitdir, "rev-parse", wanted + "^{commit}").decode().strip()
    head = git(gitdir, "rev-parse", "HEAD").decode().strip()
    if count_clips(list_tree(gitdir, head)):
        return head
    for c in git(gitdir, "rev-list", "--all").decode().split():
        if count_clips(list_tree(gitdir, c)):
            return c
    return head


# ----------------------------------------------------------------------------- meta and licences
def parse_meta(text: str):
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or list(rows[0].keys()) != META_HEADER:
        return None
    return rows


def find_meta(mirrors):
    """The full 2000-row esc50.csv: (rows, where) - every full copy found must agree."""
    found = {}
    for m in mirrors:
        blobs = BlobReader(m["gitdir"])
        cands = [(m["commit"], p, sha) for p, sha, _ in m["tree"] if os.path.basename(p) == "esc50.csv"]
        seen = {sha for _, _, sha in cands}
        # history too: a mirror may have trimmed its copy after committing the full one
        for line in git(m["gitdir"], "rev-list", "--objects", "--all", "--missing=allow-any").decode().splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and os.path.basename(parts[1]) == "esc50.csv" and parts[0] not in seen:
                seen.add(parts[0])
                cands.append((None, parts[1], parts[0]))
        for commit, path, sha in cands:
            rows = parse_meta((blobs.read(sha) or b"").decode("utf-8", "replace"))
            if rows and len(rows) == 2000:
                found.setdefault(sha, (rows, []))[1].append((m["repo"], commit or _commit_of(m["gitdir"], path, sha), path))
        blobs.close()
    if not found:
        sys.exit("no 2000-row meta/esc50.csv found in the mirrors")
    if len(found) > 1:
        print(f"warning: {len(found)} different full esc50.csv versions; using the most common", file=sys.stderr)
    sha, (rows, where) = max(found.items(), key=lambda kv: len(kv[1][1]))
    return rows, sha, where


def _commit_of(gitdir: str, path: str, sha: str) -> str:
    """The oldest commit whose tree has `path` at blob `sha` (for history-only finds)."""
    for c in git(gitdir, "rev-list", "--all", "--reverse", "--", path).decode().split():
        try:
            if git(gitdir, "rev-parse", f"{c}:{path}").decode().strip() == sha:
                return c
        except subprocess.CalledProcessError:
            continue
    return ""


def find_licences(mirrors):
    """Per-clip Freesound licences from ESC-50's LICENSE file: {fold-src-take: dict}."""
    for m in mirrors:
        blobs = BlobReader(m["gitdir"])
        for p, sha, size in m["tree"]:
            if os.path.basename(p) == "LICENSE" and size > 10000:
                text = (blobs.read(sha) or b"").decode("utf-8", "replace")
                if "Licensing/attribution details for individual clips" not in text:
                    continue
                out, section = {}, None
                for line in text.splitlines():
                    s = re.match(r"^(\d{3}) - (.+):\s*$", line)
                    if s:
                        section = s.group(1)
                        continue
                    lm = LICENCE_LINE.match(line)
                    if lm:
                        out[lm["key"]] = dict(lic=lm["lic"], orig=lm["orig"], url=lm["url"],
                                              author=lm["author"], section=section,
                                              note=(f"LICENSE lists it as [{lm['key']}{lm['typo']}.ogg]"
                                                    if lm["typo"] else ""))
                    elif line.startswith("- ["):
                        print(f"warning: unparsed LICENSE line: {line[:120]}", file=sys.stderr)
                blobs.close()
                return out, (m["repo"], m["commit"], p, sha, text)
        blobs.close()
    return {}, None


def find_esc10_readme_licences(mirrors):
    """ESC-10 README per-clip licences ({fold-src-take: licence}), for a cross-check."""
    line_re = re.compile(r"^- \*\*\[(?P<key>[1-5]-\d+-[A-Z])\.ogg\].*\(\[(?P<lic>CC[^\]]*)\]\(")
    for m in mirrors:
        blobs = BlobReader(m["gitdir"])
        for p, sha, size in m["tree"]:
            if p == "README.md":
                text = (blobs.read(sha) or b"").decode("utf-8", "replace")
                if "ESC-10" in text[:200]:
                    out = {}
                    for line in text.splitlines():
                        lm = line_re.match(line.strip())
                        if lm:
                            out[lm["key"]] = lm["lic"]
                    if out:
                        blobs.close()
                        return out, (m["repo"], m["commit"], p)
        blobs.close()
    return {}, None


# ----------------------------------------------------------------------------- audio
def decode(data: bytes):
    """(float64 mono samples, rate, subtype, channels)."""
    info = sf.info(io.BytesIO(data))
    x, sr = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return x.mean(axis=1), sr, info.subtype, info.channels


def to_int16_clip(x: np.ndarray) -> np.ndarray:
    """Cut/zero-pad a decoded v1 OGG to the published 220500 frames, as 16-bit PCM."""
    y = np.zeros(FRAMES, dtype=np.float64)
    n = min(len(x), FRAMES)
    y[:n] = x[:n]
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def fft_resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    n_to = int(round(len(x) * sr_to / sr_from))
    spec = np.fft.rfft(x)
    keep = n_to // 2 + 1
    out = np.zeros(keep, dtype=complex)
    out[:min(keep, len(spec))] = spec[:min(keep, len(spec))]
    return np.fft.irfft(out, n_to) * (n_to / len(x))


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / den) if den > 0 else (1.0 if not a.any() and not b.any() else 0.0)


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", action="append", required=True,
                    help="bare git dir holding ESC-50/ESC-10 clips, optionally PATH@COMMIT (repeatable; "
                         "earlier mirrors win among copies of equal quality)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-resampled", action="store_true",
                    help="leave out copies that are not at 44.1 kHz (e.g. a 16 kHz mirror)")
    args = ap.parse_args(argv)

    mirrors = []
    for spec in args.mirror:
        gitdir, _, commit = spec.partition("@")
        c = pick_commit(gitdir, commit or None)
        mirrors.append(dict(gitdir=gitdir, repo=repo_name(gitdir), commit=c, tree=list(list_tree(gitdir, c))))
        print(f"{repo_name(gitdir)} @ {c[:10]}: {count_clips(mirrors[-1]['tree'])} clip files", file=sys.stderr)

    meta, meta_sha, meta_where = find_meta(mirrors)
    by_key = {(r["fold"], r["src_file"], r["take"]): r for r in meta}
    categories = {int(r["target"]): r["category"] for r in meta}
    licences, lic_where = find_licences(mirrors)
    esc10_readme, esc10_where = find_esc10_readme_licences(mirrors)
    lic_notes = []
    for key, v in list(licences.items()):
        r = by_key.get(tuple(key.split("-")))
        code = v["section"] or "000"
        sec_target = (int(code[0]) - 1) * 10 + int(code[1:]) - 1
        if r is None or int(r["target"]) != sec_target:
            lic_notes.append(f"LICENSE entry {key} (section {code}) does not match meta; ignored")
            del licences[key]
        elif v["note"]:
            lic_notes.append(f"{r['filename']}: {v['note']}; taken as {key}")

    # candidates per clip: (rank, mirror index, path, sha, kind)
    cands = defaultdict(list)
    skipped = Counter()
    notes = []
    for mi, m in enumerate(mirrors):
        for path, sha, size in m["tree"]:
            k = clip_key(path)
            if not k:
                continue
            fold, src, take, target, kind = k
            r = by_key.get((fold, src, take))
            if r is None:
                skipped["not in meta"] += 1
                notes.append(f"{m['repo']}:{path}: not in meta/esc50.csv, skipped")
                continue
            if kind == "v2" and target != int(r["target"]):
                skipped["target mismatch"] += 1
                notes.append(f"{m['repo']}:{path}: target {target} but meta says {r['target']}, skipped")
                continue
            if kind == "v1":
                d = V1_DIR_RE.match(os.path.basename(os.path.dirname(path)))
                cat = None
                if d and d["code"] in ESC10_DIRS and d["code"].startswith("0"):
                    cat = ESC10_DIRS[d["code"]]
                elif d and d["code"][0] in "12345" and 1 <= int(d["code"][1:]) <= 10:
                    cat = categories[(int(d["code"][0]) - 1) * 10 + int(d["code"][1:]) - 1]
                if cat != r["category"]:
                    skipped["class folder mismatch"] += 1
                    notes.append(f"{m['repo']}:{path}: folder says {cat}, meta says {r['category']}, skipped")
                    continue
            cands[r["filename"]].append(dict(mi=mi, path=path, sha=sha, kind=kind, size=size))

    readers = [BlobReader(m["gitdir"]) for m in mirrors]
    audio_dir = os.path.join(args.out, "audio")
    os.makedirs(audio_dir, exist_ok=True)
    out_rows, checks = [], []
    for r in meta:
        fn = r["filename"]
        got = []
        for c in cands.get(fn, []):
            data = readers[c["mi"]].read(c["sha"]) or b""
            if not data or data.startswith(b"version https://git-lfs"):
                skipped["missing blob / LFS pointer"] += 1
                continue
            try:
                x, sr, subtype, ch = decode(data)
            except Exception as e:  # noqa: BLE001 - report and go on
                skipped["undecodable"] += 1
                notes.append(f"{mirrors[c['mi']]['repo']}:{c['path']}: undecodable ({e})")
                continue
            if c["kind"] == "v2" and sr == RATE and ch == 1 and subtype == "PCM_16" and len(x) == FRAMES:
                rank = 0
            elif c["kind"] == "v1" and sr == RATE:
                rank = 1
            elif c["kind"] == "v2" and sr != RATE:
                rank = 2
            else:
                skipped["unexpected format"] += 1
                notes.append(f"{mirrors[c['mi']]['repo']}:{c['path']}: {sr} Hz {ch} ch {subtype} "
                             f"{len(x)} frames, skipped")
                continue
            got.append(dict(c, rank=rank, x=x, sr=sr, data=data, subtype=subtype))
        if args.no_resampled:
            got = [g for g in got if g["rank"] < 2]
        if not got:
            continue
        got.sort(key=lambda g: (g["rank"], g["mi"]))
        best = got[0]
        # compare the winner with every other copy
        for g in got[1:]:
            a, b = best, g
            if b["rank"] == a["rank"] == 0:
                d = int(np.abs(np.round(a["x"] * 32768) - np.round(b["x"] * 32768)).max())
                checks.append((fn, a, b, f"max |diff| {d} LSB"))
            elif a["rank"] < 2 and b["rank"] < 2:
                ref = np.round(a["x"] * 32768) if a["rank"] == 0 else to_int16_clip(a["x"]).astype(float)
                oth = to_int16_clip(b["x"]).astype(float) if b["rank"] == 1 else np.round(b["x"] * 32768)
                dd = np.abs(ref - oth)
                big = np.flatnonzero(dd > 1)
                ogg_len = len(b["x"]) if b["rank"] == 1 else len(a["x"])
                checks.append((fn, a, b, f"max |diff| {int(dd.max())} LSB, {len(big)} samples > 1 LSB" +
                               (f" (frames {big[0]}-{big[-1]}; the OGG decodes to {ogg_len} frames)" if len(big) else "")))
            else:
                xa = a["x"] if a["rank"] == 0 else to_int16_clip(a["x"]) / 32768.0
                if b["rank"] == 2:
                    checks.append((fn, a, b, f"corr {corr(fft_resample(xa, RATE, b['sr']), b['x']):.4f} "
                                             f"after resampling to {b['sr']} Hz"))
                else:
                    checks.append((fn, a, b, "(not compared)"))
        dst = os.path.join(audio_dir, fn)
        if best["rank"] == 0:
            with open(dst, "wb") as f:
                f.write(best["data"])  # the published file, byte for byte
            frames, rate = FRAMES, RATE
        elif best["rank"] == 1:
            sf.write(dst, to_int16_clip(best["x"]), RATE, subtype="PCM_16")
            frames, rate = FRAMES, RATE
        else:
            with open(dst, "wb") as f:
                f.write(best["data"])  # kept at its own rate, never upsampled
            frames, rate = len(best["x"]), best["sr"]
        key = f"{r['fold']}-{r['src_file']}-{r['take']}"
        lic = licences.get(key)
        m = mirrors[best["mi"]]
        out_rows.append(dict(
            path=f"audio/{fn}", label=r["category"], fold=r["fold"], esc10=r["esc10"],
            licence=LICENCE_ESC10 if r["esc10"] == "True" else LICENCE_ALL,
            repo=f"https://github.com/{m['repo']}", commit=m["commit"], freesound_id=r["src_file"],
            clip_licence=lic["lic"] if lic else "",
            clip_attribution=(f"{lic['orig']} by {lic['author']} ({lic['url']})" if lic else ""),
            target=r["target"], take=r["take"], source_path=best["path"],
            source_format=RANK_NAMES[best["rank"]], sample_rate=rate, frames=frames))
    for rd in readers:
        rd.close()

    cols = ["path", "label", "fold", "esc10", "licence", "repo", "commit", "freesound_id", "clip_licence",
            "clip_attribution", "target", "take", "source_path", "source_format", "sample_rate", "frames"]
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(out_rows)
    write_source_md(args, mirrors, meta, meta_sha, meta_where, licences, lic_where, esc10_readme, esc10_where,
                    out_rows, checks, skipped, lic_notes + notes)
    print(f"wrote {len(out_rows)} clips to {args.out}", file=sys.stderr)
    return 0


def write_source_md(args, mirrors, meta, meta_sha, meta_where, licences, lic_where, esc10_readme, esc10_where,
                    rows, checks, skipped, notes):
    have = {r["path"].split("/", 1)[1] for r in rows}
    missing = [r for r in meta if r["filename"] not in have]
    per_class = Counter(r["label"] for r in rows)
    per_fold = Counter(r["fold"] for r in rows)
    per_src = Counter((r["repo"], r["commit"], r["source_format"]) for r in rows)
    per_rate = Counter(r["sample_rate"] for r in rows)
    L = []
    a = L.append
    a("# ESC-50 (environmental sounds), as built here\n")
    a("ESC-50: K. J. Piczak, *ESC: Dataset for Environmental Sound Classification*, ACM Multimedia 2015, "
      f"{UPSTREAM}.  2,000 five-second clips (44.1 kHz mono), 50 classes x 40, five published folds "
      "(clips cut from one Freesound recording share a fold).\n")
    a("## Licence\n")
    a(f"* ESC-50 as a whole: **{LICENCE_ALL}** (Creative Commons Attribution-NonCommercial, "
      "http://creativecommons.org/licenses/by-nc/3.0/), per the upstream LICENSE and README.")
    a(f"* ESC-10 subset (esc10=True, 400 clips, 10 classes): **{LICENCE_ESC10} Unported** "
      "(https://creativecommons.org/licenses/by/3.0/), per the same LICENSE file and the ESC-10 README.")
    a("* Per clip: `clip_licence` is the licence of the Freesound recording the clip was cut from, as listed "
      "in ESC-50's LICENSE file (`[CC0]`, `[CC-BY]`, `[CC-BY-NC]`, `[CC-Sampling+]`); `clip_attribution` gives "
      "the original file, author and Freesound URL.  Cite Piczak 2015 when using the data.\n")
    if lic_where:
        repo, commit, path, sha, text = lic_where
        cnt = Counter(v["lic"] for v in licences.values())
        known = KNOWN_LICENSE_BLOBS.get(sha)
        a(f"Clip licences read from `{path}` of https://github.com/{repo} at {commit} (git blob {sha}, "
          f"{len(text)} characters" + (f"; {known}" if known else "") + f"): {len(licences)} entries, "
          + ", ".join(f"{k}: {v}" for k, v in sorted(cnt.items())) + ".")
        no_lic = [r["path"] for r in rows if not r["clip_licence"]]
        a(f"Clips with no per-clip licence entry: {len(no_lic)}" + (f" ({', '.join(no_lic[:10])})" if no_lic else "") + ".")
    if esc10_readme:
        repo, commit, path = esc10_where
        agree = sum(1 for k, v in esc10_readme.items() if k in licences and licences[k]["lic"] == v)
        dis = [(k, v, licences[k]["lic"]) for k, v in esc10_readme.items() if k in licences and licences[k]["lic"] != v]
        a(f"Cross-check: the ESC-10 README (https://github.com/{repo} at {commit}, `{path}`) lists {len(esc10_readme)} "
          f"clip licences; {agree} agree with the ESC-50 LICENSE" +
          (f", {len(dis)} differ: " + "; ".join(f"{k}: README {v} vs LICENSE {w}" for k, v, w in dis[:20]) if dis else "")
          + ".")
        e10 = Counter(r["clip_licence"] for r in rows if r["esc10"] == "True")
        a("Freesound licences of the ESC-10 clips built here: " + ", ".join(f"{k or 'unknown'}: {v}" for k, v in sorted(e10.items()))
          + " (upstream nevertheless releases ESC-10 as a whole under CC BY 3.0).")
    a("")
    a("## Where every file came from\n")
    a("Public GitHub repositories read as bare git mirrors (no network).  `labels.csv` names, for each clip, "
      "the repository, commit and path it was taken from (`repo`, `commit`, `source_path`) and how "
      "(`source_format`, `sample_rate`, `frames`).\n")
    a("| repository | commit | clip files there | clips used | as |")
    a("| --- | --- | --- | --- | --- |")
    used_by = Counter(r["repo"] for r in rows)
    for m in mirrors:
        url = f"https://github.com/{m['repo']}"
        kinds = sorted({f for (u, c, f) in per_src if u == url})
        a(f"| {url} | {m['commit']} | {count_clips(m['tree'])} | {used_by.get(url, 0)} | {'; '.join(kinds) or '-'} |")
    a("")
    a(f"Meta (fold, target, category, esc10, freesound id, take): `meta/esc50.csv`, git blob {meta_sha} (2000 rows, "
      "columns " + ",".join(META_HEADER) + "), found identical in: " +
      "; ".join(f"https://github.com/{r} @ {c} `{p}`" for r, c, p in meta_where) + ".\n")
    a("Formats of the clips written:\n")
    for (u, c, f), n in sorted(per_src.items()):
        a(f"* {n} clips: {f} - from {u} @ {c[:10]}")
    a("")
    a("Sample rates: " + ", ".join(f"{k} Hz: {v}" for k, v in sorted(per_rate.items(), key=lambda kv: -int(kv[0]))) + ".")
    if any(int(r["sample_rate"]) != RATE for r in rows):
        a("\n**Caveat - mixed bandwidth.** Clips not at 44.1 kHz come from a resampled copy (band-limited to half "
          "their rate) because no 44.1 kHz copy of them was available.  They are stored at their own rate (not "
          "upsampled); loaders that resample to one rate get every clip, but the resampled ones lack the high band.  "
          "Which clips are affected is not random (see the tables below: whole classes and whole folds can be "
          "complete at 44.1 kHz while others are mostly 16 kHz), so a model could learn bandwidth as a class or "
          "fold cue: for 50-class work load everything at 16 kHz (or low-pass to 8 kHz), or rebuild with "
          "--no-resampled for a smaller all-44.1 kHz set.")
    a("")
    a("## Checks\n")
    a("* Every clip's file name (fold, Freesound id, take, target) and, for v1 OGG files, its class folder "
      "were checked against meta/esc50.csv; skipped files: " +
      (", ".join(f"{k}: {v}" for k, v in skipped.items()) if skipped else "none") + ".")
    agg = defaultdict(list)
    for fn, a_, b_, res in checks:
        agg[(mirrors[a_["mi"]]["repo"], a_["rank"], mirrors[b_["mi"]]["repo"], b_["rank"])].append((fn, res))
    for (ra, ka, rb, kb), items in sorted(agg.items()):
        a(f"* {len(items)} clips present both as {RANK_NAMES[ka]} in {ra} and as {RANK_NAMES[kb]} in {rb}; "
          "comparison of the second with the first:")
        vals = Counter(res.split(",")[0] if res.startswith("max") else "" for _, res in items)
        if all(res.startswith("corr") for _, res in items):
            cs = [float(res.split()[1]) for _, res in items]
            a(f"  correlation min {min(cs):.4f}, median {float(np.median(cs)):.4f}.")
            low = [(fn, res) for fn, res in items if float(res.split()[1]) < 0.95]
            for fn, res in low:
                a(f"  - {fn}: {res}")
        else:
            a("  " + ", ".join(f"{k}: {v}" for k, v in sorted(vals.items())) + ".")
            for fn, res in items:
                if not (res.startswith("max |diff| 0 ") or res.startswith("max |diff| 1 ") or res == "max |diff| 0 LSB"
                        or res == "max |diff| 1 LSB"):
                    a(f"  - {fn}: {res}")
    a("")
    a("## Counts\n")
    a(f"{len(rows)} of 2000 clips.\n")
    a("| fold | clips | at 44.1 kHz |")
    a("| --- | --- | --- |")
    for f in sorted(per_fold):
        a(f"| {f} | {per_fold[f]} | {sum(1 for r in rows if r['fold'] == f and int(r['sample_rate']) == RATE)} |")
    a("")
    a("| target | class | clips | folds 1-5 | at 44.1 kHz |")
    a("| --- | --- | --- | --- | --- |")
    cats = {}
    for r in meta:
        cats[int(r["target"])] = r["category"]
    for t in sorted(cats):
        c = cats[t]
        rs = [r for r in rows if r["label"] == c]
        folds = Counter(r["fold"] for r in rs)
        a(f"| {t} | {c} | {per_class.get(c, 0)} | {' '.join(str(folds.get(str(i), 0)) for i in range(1, 6))} | "
          f"{sum(1 for r in rs if int(r['sample_rate']) == RATE)} |")
    a("")
    if missing:
        a(f"## Missing ({len(missing)} clips)\n")
        mc = Counter(r["category"] for r in missing)
        a(", ".join(f"{k}: {v}" for k, v in sorted(mc.items())))
        a("")
        a(" ".join(r["filename"] for r in missing))
        a("")
    if notes:
        a("## Notes\n")
        for n in notes[:200]:
            a(f"* {n}")
        if len(notes) > 200:
            a(f"* ... and {len(notes) - 200} more")
        a("")
    a("## How to rebuild\n")
    a("Bring the mirrors (bare git snapshots of the repositories above), then:\n")
    a("```")
    a("python scripts/data/build_esc50.py --out " + args.out + " \\")
    for i, m in enumerate(mirrors):
        a(f"    --mirror <mirror of {m['repo']}>@{m['commit']}" + (" \\" if i < len(mirrors) - 1 or args.no_resampled else ""))
    if args.no_resampled:
        a("    --no-resampled")
    a("```")
    a("")
    a("The upstream repository itself (karolpiczak/ESC-50, ~860 MB with its WAV audio) was over the 500 MiB "
      "snapshot limit here, as were forks that carry its full history; with a mirror of it, pass it first and "
      "every clip comes out as the published WAV.")
    with open(os.path.join(args.out, "SOURCE.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())

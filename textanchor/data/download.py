"""Fetching data set files with the standard library only: resumable, verified, atomic.

A download lands in `dest + ".part"` and is renamed into place only after its checksum passes,
so a half-written or corrupt file never sits where a loader would trust it. An interrupted
transfer leaves the `.part` behind on purpose: the next call asks the server for the rest with
an HTTP Range request instead of starting over (large archives over flaky links).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

from .base import DataError

CHUNK = 1 << 16


def file_hash(path, algorithm: str) -> str:
    """Hex digest of a file's bytes, read in chunks (archives can be gigabytes)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksum_problem(path: Path, sha256: str | None, md5: str | None) -> str | None:
    """None when every given checksum matches, else a sentence naming expected and actual."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected:
            actual = file_hash(path, algorithm)
            if actual.lower() != expected.lower():
                return f"{algorithm} mismatch: expected {expected}, got {actual}"
    return None


def _fetch(url: str, part: Path, offset: int, timeout: float, progress) -> None:
    """Append the body of `url` from byte `offset` to `part` (truncating it when offset is 0)."""
    request = urllib.request.Request(url, headers={"User-Agent": "textanchor"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if offset and response.status != 206:
            offset = 0  # the server ignored Range and sends the whole file: restart the part
        length = response.headers.get("Content-Length")
        total = int(length) + offset if length is not None else None
        done = offset
        with open(part, "ab" if offset else "wb") as f:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    # http.client returns b"" (not an error) when the server closes early, so count the bytes.
    if total is not None and done < total:
        raise http.client.IncompleteRead(b"", total - done)


def download(
    url: str,
    dest,
    sha256: str | None = None,
    md5: str | None = None,
    timeout: float = 30,
    resume: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download `url` to `dest`, resuming a previous partial transfer and verifying checksums.

    Args:
        url: http(s) URL of one file.
        dest: where the finished file goes; its folder is created.
        sha256, md5: expected hex digests; every one given must match.
        timeout: socket timeout in seconds.
        resume: continue an existing `dest.part` with a Range request (False restarts it).
        progress: called as progress(bytes_done, bytes_total_or_None) after each chunk.

    Returns:
        `dest` as a Path. An existing `dest` whose checksums match is returned without fetching.

    Raises:
        DataError: the server could not be reached or the transfer broke off (the `.part` is
            kept so a retry resumes), or the checksum did not match (the `.part` is deleted).
    """
    dest = Path(dest)
    if dest.is_file() and _checksum_problem(dest, sha256, md5) is None:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if resume and part.is_file() else 0
    try:
        try:
            _fetch(url, part, offset, timeout, progress)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not offset:
                raise
            # 416: the part is already as long as (or longer than) the file; fetch it afresh.
            _fetch(url, part, 0, timeout, progress)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise DataError(
            f"could not fetch {url} ({exc}). Check the network and retry (the partial file "
            f"{part} is kept and will be resumed), or download the file by hand and put it "
            f"at {dest}"
        ) from None
    problem = _checksum_problem(part, sha256, md5)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise DataError(f"download of {url} is corrupt ({problem}); the partial file was deleted")
    os.replace(part, dest)  # atomic on one filesystem: readers see no file or the whole file
    return dest


def _inside(root: Path, name: str) -> Path:
    """The path `name` would extract to, refusing anything that escapes `root`."""
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise DataError(f"archive member {name!r} would extract outside {root}; refusing")
    return target


def extract_archive(path, dest) -> Path:
    """Unpack a .zip or .tar(.gz/.bz2/.xz) archive into `dest`, refusing path traversal.

    Args:
        path: the archive file.
        dest: the folder to extract into (created).

    Returns:
        `dest` as a Path.

    Raises:
        DataError: unknown archive type, unreadable archive, or a member (or link) that would
            land outside `dest`.
    """
    path, dest = Path(path), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    _inside(root, name)
                zf.extractall(root)
        elif tarfile.is_tarfile(path):
            with tarfile.open(path) as tf:
                for member in tf.getmembers():
                    _inside(root, member.name)
                    if member.issym() or member.islnk():
                        _inside(root, str(Path(member.name).parent / member.linkname))
                # The "data" filter (Python >= 3.11.4) also strips device files and odd modes.
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(root, filter="data")
                else:
                    tf.extractall(root)
        else:
            raise DataError(f"{path} is not a .zip or .tar archive; delete it and download again")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DataError(f"cannot extract {path} ({exc}); delete it and download again") from None
    return dest

"""MNIST handwritten digits from the four standard IDX files.

The files are read directly (gzipped or not) instead of through torchvision's MNIST class so
that the folder torchvision uses (`root/MNIST/raw`) and a plain folder of the four files both
work, and so missing files produce a message that says how to get them.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, default_root
from .download import download as fetch

# Tried in order; the original yann.lecun.com host now often refuses robots, so it is last.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

# The published MD5s of the gzipped files (torchvision.datasets.MNIST.resources). Checked on
# download only: a locally provided file may have been re-compressed and still be correct.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

FILES = {  # split -> (images stem, labels stem); ".gz" is optional on disk
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# IDX type byte -> element dtype (big-endian, as the format specifies).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data) -> np.ndarray:
    """Decode an IDX file (the MNIST container format), gzipped or not.

    Args:
        data: the file's bytes, or a path to it.

    Returns:
        An array of the stored shape and dtype, e.g. (N, 28, 28) uint8 for images, (N,) labels.

    Raises:
        DataError: the bytes are not a well-formed IDX file.
    """
    if not isinstance(data, (bytes, bytearray)):
        data = Path(data).read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip magic
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataError("not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    start = 4 + 4 * ndim
    count = int(np.prod(shape))
    if len(data) - start != count * dtype.itemsize:
        raise DataError(
            f"IDX file is truncated or padded: header says shape {shape}, "
            f"body has {len(data) - start} bytes"
        )
    array = np.frombuffer(data, dtype, count=count, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and writable


def _find(root: Path, stem: str) -> Path | None:
    for folder in (root, root / "MNIST" / "raw"):
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                return folder / name
    return None


def _download(root: Path, stems, base_url: str | None, md5: dict) -> None:
    """Fetch the gzipped `stems` into `root`, trying each mirror until one works."""
    mirrors = [base_url] if base_url else MIRRORS
    for stem in stems:
        name = stem + ".gz"
        errors = []
        for mirror in mirrors:
            try:
                fetch(mirror.rstrip("/") + "/" + name, root / name, md5=md5.get(name))
                break
            except DataError as exc:
                errors.append(str(exc))
        else:
            raise DataError(
                f"could not download {name} from any mirror:\n  " + "\n  ".join(errors)
                + f"\nPut the MNIST IDX files in {root} by hand."
            )


@DATASETS.register("mnist")
def load_mnist(
    root=None,
    split: str = "train",
    limit: int | None = None,
    download: bool = False,
    base_url: str | None = None,
    md5: dict | None = None,
) -> ItemSet:
    """Load one MNIST split as 28x28 uint8 images labelled with digit words.

    Args:
        root: folder holding the four IDX files (or `root/MNIST/raw`, torchvision's layout);
            default $TEXTANCHOR_DATA/mnist.
        split: "train" (60,000 images) or "test" (10,000).
        limit: keep only the first `limit` items (quick runs).
        download: fetch missing files from the mirrors into `root`.
        base_url: a folder URL to download from instead of the public mirrors.
        md5: file name -> expected MD5 of the .gz, default MNIST_MD5 (names absent are unchecked).

    Returns:
        ItemSet(modality="image") with class_names DIGIT_NAMES and sources "mnist:<split>:<i>".
    """
    if split not in FILES:
        raise ValueError(f"unknown MNIST split {split!r}; use 'train' or 'test'")
    root = Path(root) if root is not None else default_root("mnist")
    stems = FILES[split]
    paths = [_find(root, s) for s in stems]
    if any(p is None for p in paths) and download:
        _download(root, [s for s, p in zip(stems, paths) if p is None], base_url,
                  MNIST_MD5 if md5 is None else md5)
        paths = [_find(root, s) for s in stems]
    if any(p is None for p in paths):
        raise DataError(
            f"MNIST {split} files not found in {root} (nor {root / 'MNIST' / 'raw'}): expected "
            f"{stems[0]}.gz and {stems[1]}.gz (gzipped or not). Pass --download to fetch them, "
            f"or copy them there by hand."
        )
    try:
        images, labels = parse_idx(paths[0]), parse_idx(paths[1])
    except DataError as exc:
        raise DataError(f"{paths[0].parent}: {exc}; delete the file and download again") from None
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"MNIST files in {paths[0].parent} disagree: images {images.shape}, labels {labels.shape}"
        )
    n = len(images) if limit is None else min(limit, len(images))
    return ItemSet(
        modality="image",
        items=list(images[:n]),  # (28, 28) uint8 views into one block
        labels=labels[:n].astype(np.int64),
        class_names=list(DIGIT_NAMES),
        sources=[f"mnist:{split}:{i}" for i in range(n)],
        meta={"root": str(paths[0].parent)},
    )

"""Reading a data folder's `labels.csv`: one row per file, the shape every "things" data set
here is kept in (the files as their source repository has them, the table saying what each is,
where it came from and under which licence)."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from .base import DataError


def read_table(root: Path, name: str, required: tuple[str, ...], how: str) -> list[dict]:
    """The rows of root/name as dicts.

    Args: root: the data folder. name: the table's file name. required: columns it must have.
        how: how to get the data, for the message when it is missing.
    Raises: DataError: no table, or a required column is missing."""
    table = Path(root) / name
    if not table.is_file():
        raise DataError(f"{table} not found: {how}")
    with open(table, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{table} lacks the column(s) {', '.join(missing)}")
        return list(reader)


def in_test_share(key: str, share: float) -> bool:
    """Whether a group (a speaker, a source recording) falls in the held-out `share`: a stable
    hash of its key, so adding data never moves an existing group across the split."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def check_split(split: str) -> None:
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown split {split!r}; use 'train', 'test' or 'all'")


def check_files(root: Path, rows: list[dict], column: str = "path") -> None:
    """Raise DataError naming the first missing file of `rows`."""
    missing = [r[column] for r in rows if not (Path(root) / r[column]).is_file()]
    if missing:
        raise DataError(f"{len(missing)} files listed in {Path(root) / 'labels.csv'} are missing, e.g. {missing[0]}")


def first_per_class(rows: list[dict], n: int, column: str = "label") -> list[dict]:
    """The first `n` rows of each class, in the rows' order."""
    out, count = [], {}
    for r in rows:
        count[r[column]] = count.get(r[column], 0) + 1
        if count[r[column]] <= n:
            out.append(r)
    return out

"""Reading bare git mirrors (the search tool's `fetch`, or `git clone --mirror`): the helpers the
data builders in this folder share. Nothing here touches the network."""
from __future__ import annotations

import os
import re
import subprocess


def git(gitdir: str, *args: str, data: bytes | None = None) -> bytes:
    """`git --git-dir GITDIR ARGS` -> its stdout; `data` goes to its stdin. Raises
    subprocess.CalledProcessError (with git's stderr) when git fails."""
    return subprocess.run(["git", "--git-dir", gitdir, *args], input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def repo_name(gitdir: str) -> str:
    """owner/name of a mirror: from its origin URL, else from a fetch folder named owner+name."""
    try:
        url = git(gitdir, "config", "--get", "remote.origin.url").decode().strip()
        m = re.search(r"github\.com[:/](.+?)(?:\.git)?/?$", url)
        if m:
            return m.group(1)
    except subprocess.CalledProcessError:
        pass
    for p in reversed(os.path.abspath(gitdir).split(os.sep)):
        if "+" in p:
            return p.replace("+", "/", 1)
    return os.path.basename(os.path.abspath(gitdir))


def list_tree(gitdir: str, commit: str):
    """Yield (path, blob sha, size in bytes or -1) of every file in `commit`'s tree."""
    out = git(gitdir, "ls-tree", "-r", "-z", "--long", commit)
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        _mode, typ, sha, size = meta.split()
        if typ == b"blob":
            yield path.decode("utf-8", "replace"), sha.decode(), (int(size) if size.isdigit() else -1)


class BlobReader:
    """Streams blobs out of one mirror with a single `git cat-file --batch`."""

    def __init__(self, gitdir: str):
        self.p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, sha: str) -> bytes | None:
        """The blob's bytes; None when the snapshot lacks it (a fetch may leave out large files)."""
        self.p.stdin.write(sha.encode() + b"\n")
        self.p.stdin.flush()
        header = self.p.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            return None
        data = self.p.stdout.read(int(header[2]))
        self.p.stdout.read(1)
        return data

    def close(self):
        self.p.stdin.close()
        self.p.wait()

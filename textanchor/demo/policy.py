"""What a visitor of a public app may do: which server paths it reads and how big a training run
it starts. An operator sets these when starting the app (`app.py --help`); the defaults suit a
small shared CPU Space.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .inputs import InputError

# The shipped models (the repository's checkpoints/); here, in a module that imports neither
# torch nor Gradio, so app.py can name them in --help before the heavy imports. Every visitor
# starts on the things model, the one that shows what a text anchor is for; digits is one click away.
CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
DIGITS_CHECKPOINT = CHECKPOINTS / "digits"
THINGS_CHECKPOINT = CHECKPOINTS / "things"
DEFAULT_CHECKPOINT = THINGS_CHECKPOINT if (THINGS_CHECKPOINT / "config.json").is_file() else DIGITS_CHECKPOINT


@dataclass
class Limits:
    """Operator-settable limits for one app process."""

    max_epochs: int = 20  # per training run
    max_minutes: float = 10.0  # per training run: the trainer stops and saves after this
    max_batch: int = 512  # per training run
    runs_per_visitor: int = 3  # training runs one browser session may start
    max_upload_mb: int = 20  # any uploaded file (a spoken digit is a few hundred KB)

    def check_run(self, epochs, batch_size) -> None:
        """Raise InputError for a run beyond the limits (the message names them)."""
        if int(epochs) > self.max_epochs or int(batch_size) > self.max_batch:
            raise InputError(f"This server allows at most {self.max_epochs} epochs and a batch size of "
                             f"{self.max_batch} per run (the operator sets these with --max-epochs / --max-batch).")


@dataclass
class PathPolicy:
    """Server paths a visitor may name: only under `roots` (the app's data, cache and checkpoint
    folders, and Gradio's upload folder), unless the operator allowed any path.

    Args:
        roots: the allowed folders. allow_any: the operator's explicit `--allow-any-path`.
        deny: a resolved path -> the refusal for a path under the roots that this visitor still
            may not name (another session's training run, `DemoService.policy_for`), else None.
    """

    roots: list[Path] = field(default_factory=list)
    allow_any: bool = False
    deny: Callable[[Path], str | None] | None = None

    def __post_init__(self):
        self.roots = [Path(r).expanduser().resolve() for r in self.roots if r]

    @staticmethod
    def upload_dir() -> Path:
        """Where Gradio keeps uploads ($GRADIO_TEMP_DIR or the system temp folder /gradio)."""
        import os

        return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")

    def allowed(self, path) -> bool:
        if self.allow_any:
            return True
        p = Path(str(path)).expanduser().resolve()  # resolve: `..` and links cannot escape a root
        return any(p == r or r in p.parents for r in self.roots)

    def check(self, path, what: str = "path") -> Path:
        """The path itself when allowed, else InputError with a clear refusal.

        Args:
            path: a str or Path typed or sent by a visitor. what: its role, for the message.
        """
        if not str(path or "").strip():
            raise InputError(f"Give a {what}.")
        p = Path(str(path).strip()).expanduser()
        why = self.deny(p.resolve()) if self.deny is not None else None
        if why:
            raise InputError(why)
        if not self.allowed(p):
            # The app's own folders are not named: a public page must not map the server's disk.
            raise InputError(f"Refused: the {what} `{str(path).strip()}` is outside this app's folders (its data, "
                             "cache and model folders and uploads). The operator can start the app with "
                             "--allow-any-path to lift this.")
        return p

    def check_model_name(self, name, what: str = "text anchor model") -> None:
        """A model named by a visitor: a Hugging Face name ("thenlper/gte-base") passes, a local
        path (`looks_local`) must pass `check` like any other server path (else InputError)."""
        if looks_local(name):
            self.check(name, what)

    def check_all(self, paths, what: str) -> None:
        """check() every path (e.g. the files a CSV manifest names)."""
        for p in paths:
            self.check(p, what)


def looks_local(name) -> bool:
    """Whether a model name is a server path rather than a hub name: absolute, starting with `.`
    or `~`, or an existing folder (sentence-transformers loads a local folder before the hub)."""
    s = str(name or "").strip()
    if not s:
        return False
    p = Path(s).expanduser()
    return p.is_absolute() or s.startswith((".", "~")) or p.is_dir()

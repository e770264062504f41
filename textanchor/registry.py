"""One small registry class shared by every extension point (timm's `register_model` idea),
filled by discovery so that adding an entry never means editing an `__init__`.

Each extension point (modalities, encoders, projectors, losses, data sets, anchors) owns one
`Registry`. Adding an entry is a decorator; building one by name fails with the list of known
names and with how to register a new one, so there is never an `if name == ...` chain anywhere
else.

Discovery runs once, on the first lookup (so `import textanchor` stays cheap):
  1. every module of the registry's own subpackage (`package`, e.g. `textanchor.modalities`)
     is imported, so a new file dropped into that folder registers itself;
  2. every Python entry point of the registry's group (`entry_points`, e.g.
     `textanchor.modalities`) is loaded, so another installed package can add entries. An
     entry point names a module (imported for its decorators) or an object (registered under
     the entry point's name when no decorator did so).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
import warnings
from importlib import metadata
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")

DOCS = "docs/new-modality.md"


class Registry(Generic[T]):
    """A named table of factories (or objects) for one extension point.

    Args:
        kind: what an entry is, for messages ("modality", "loss").
        package: dotted name of the subpackage whose modules are imported on first lookup.
        entry_points: the entry point group that other installed packages register under.
        decorator: how an entry registers itself, for the unknown-name message.
    """

    def __init__(self, kind: str, package: str | None = None, entry_points: str | None = None,
                 decorator: str | None = None):
        self.kind = kind  # used in error messages, e.g. "loss"
        self.package = package
        self.group = entry_points
        self.decorator = decorator
        self._entries: dict[str, T] = {}
        self.meta: dict[str, dict] = {}  # optional facts about an entry, e.g. a data set's modality
        self._discovered = package is None and entry_points is None
        # Reentrant: a module imported during discovery may itself look entries up.
        self._lock = threading.RLock()

    def register(self, name: str, **meta) -> Callable[[T], T]:
        """Decorator: `@LOSSES.register("mse")`; keyword arguments are kept in `meta[name]`.

        Registering the same object twice under one name is a no-op (a module found both as a
        file and as an entry point); a different object under a taken name is an error."""

        def deco(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            if meta:
                self.meta[name] = dict(meta)
            return obj

        return deco

    # ------------------------------------------------------------------ discovery
    def discover(self, force: bool = False) -> None:
        """Import the package's modules and load the entry points (once; `force` redoes it,
        e.g. after installing a plugin in a running process)."""
        with self._lock:
            if self._discovered and not force:
                return
            self._discovered = True  # set first: lookups made while importing must not recurse
            if self.package:
                try:
                    pkg = importlib.import_module(self.package)
                    for info in pkgutil.iter_modules(pkg.__path__):
                        if not info.name.startswith("_"):
                            # An error in our own module is a bug to see, not to skip.
                            importlib.import_module(f"{self.package}.{info.name}")
                except BaseException:
                    self._discovered = False  # the next lookup raises the same error again
                    raise
            if self.group:
                for ep in metadata.entry_points(group=self.group):
                    self._load_entry_point(ep)

    def _load_entry_point(self, ep) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the others down
            warnings.warn(f"{self.kind} plugin {ep.name!r} ({ep.value}) failed to load and is "
                          f"skipped: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
            return
        if not inspect.ismodule(obj) and ep.name not in self._entries and obj not in self._entries.values():
            self.register(ep.name)(obj)

    def how_to_register(self) -> str:
        """One sentence on how a new entry gets into this registry."""
        ways = []
        if self.package:
            folder = self.package.replace(".", "/")
            deco = self.decorator or "the registry's register(name) decorator"
            ways.append(f"a module in {folder}/ that uses {deco} is found automatically")
        elif self.decorator:
            ways.append(f"decorate it with {self.decorator} in a module that is imported")
        if self.group:
            ways.append(f"another package declares an entry point in the group {self.group!r}")
        if not ways:
            return ""
        return f"To add a {self.kind}: " + "; or ".join(ways) + f" (see {DOCS})."

    # ------------------------------------------------------------------ lookups
    def get(self, name: str) -> T:
        self.discover()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            how = self.how_to_register()
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}." + (f" {how}" if how else "")) from None

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self.discover()
        return len(self._entries)

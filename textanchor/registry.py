"""One small registry class shared by every extension point (timm's `register_model` idea).

Each extension point (modalities, encoders, projectors, losses, data sets, anchors) owns one
`Registry`. Adding an entry is a decorator; building one by name fails with the list of known
names, so there is never an `if name == ...` chain anywhere else.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of factories (or objects) for one extension point."""

    def __init__(self, kind: str):
        self.kind = kind  # used in error messages, e.g. "loss"
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: `@LOSSES.register("mse")`."""

        def deco(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

"""``LayeredDict``: a dict whose copies share most of their contents.

A long matter holds every entry ever logged on it. The command path keeps such
aggregates in a cache and hands each command a copy; copying a 100,000-entry dict
per command would make a command's cost grow with history again. Here the contents
are a frozen *base* (never changed once built, so copies share it) and a small
*delta* of the writes since; a copy copies only the delta. When the delta grows past
``FOLD_AT`` it is folded into a new base, an O(n) step once every ``FOLD_AT`` writes.

Reading, ``in``, ``len``, iteration order and equality behave as a plain dict's
(a key keeps its first position when its value is replaced). Keys are never deleted
(aggregates only add and replace), so deletion is not offered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

FOLD_AT = 1024
_MISSING: Any = object()


class LayeredDict(MutableMapping[K, V]):
    """A dict of a shared frozen base and a private delta (see the module's docstring)."""

    __slots__ = ("_base", "_delta", "_len")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        self._base: dict[K, V] = dict(items or {})
        self._delta: dict[K, V] = {}
        self._len = len(self._base)

    def __getitem__(self, key: K) -> V:
        value = self._delta.get(key, _MISSING)
        if value is _MISSING:
            return self._base[key]
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return key in self._delta or key in self._base

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self:
            self._len += 1
        self._delta[key] = value
        if len(self._delta) >= FOLD_AT:
            self._base = {**self._base, **self._delta}
            self._delta = {}

    def __delitem__(self, key: K) -> None:
        raise TypeError("entries are never removed")

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[K]:
        yield from self._base
        base = self._base
        for key in self._delta:
            if key not in base:
                yield key

    def __copy__(self) -> LayeredDict[K, V]:
        clone: LayeredDict[K, V] = LayeredDict.__new__(LayeredDict)
        # the delta before the base: a fold sets the base before emptying the delta,
        # so a copy taken while another thread folds never misses the folded writes
        clone._len, clone._delta = self._len, dict(self._delta)
        clone._base = self._base
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> LayeredDict[K, V]:
        """Values are immutable (frozen entries, ids): a copy shares them."""
        return self.__copy__()

    def copy(self) -> LayeredDict[K, V]:
        return self.__copy__()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return len(self) == len(other) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LayeredDict({dict(self.items())!r})"

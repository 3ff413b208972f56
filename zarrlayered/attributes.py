"""Attributes: the user attributes of an array or group as a mapping that writes through."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["Attributes"]


class Attributes(MutableMapping[str, Any]):
    """A live view of a node's attributes: every change is saved to the store at once.

    Parameters
    ----------
    read
        Returns the current attributes.
    write
        Replaces the stored attributes with the mapping it is given.
    """

    def __init__(self, read: Callable[[], Mapping[str, Any]], write: Callable[[dict[str, Any]], None]) -> None:
        self._read = read
        self._write = write

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._write({**self._read(), key: value})

    def __delitem__(self, key: str) -> None:
        current = dict(self._read())
        del current[key]
        self._write(current)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._read()))

    def __len__(self) -> int:
        return len(self._read())

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def __repr__(self) -> str:
        return repr(dict(self._read()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._read()) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def asdict(self) -> dict[str, Any]:
        """A plain dict copy of the attributes."""
        return dict(self._read())

    def put(self, attributes: Mapping[str, Any]) -> None:
        """Replace all attributes with ``attributes``."""
        self._write(dict(attributes))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Merge new attributes in one write."""
        self._write({**self._read(), **dict(*args, **kwargs)})

"""Chunk key encodings: how chunk grid coordinates become store keys.

``default`` (Zarr V3): ``c/0/1`` (``c`` alone for a 0-d array), separator ``/`` or ``.``.
``v2`` (Zarr V2 and V3's ``v2`` encoding): ``0.1`` (``0`` for a 0-d array), separator ``.`` or ``/``.
More encodings register with :func:`register_chunk_key_encoding` or the ``zarrlayered.chunk_key_encodings``
entry-point group.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, Self

from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "CHUNK_KEY_ENCODING_REGISTRY",
    "ENTRY_POINT_GROUP",
    "ChunkKeyEncoding",
    "DefaultChunkKeyEncoding",
    "Separator",
    "V2ChunkKeyEncoding",
    "get_chunk_key_encoding_class",
    "parse_chunk_key_encoding",
    "parse_separator",
    "register_chunk_key_encoding",
]

logger = logging.getLogger("zarrlayered.array")

#: Third-party chunk key encodings register under this entry-point group (name -> ChunkKeyEncoding subclass).
ENTRY_POINT_GROUP: Final = "zarrlayered.chunk_key_encodings"

Separator = Literal[".", "/"]

_INDEX = re.compile(r"0|[1-9][0-9]*")


def parse_separator(value: object, where: str = "chunk key encoding 'separator'") -> Separator:
    """Return ``value`` if it is ``"."`` or ``"/"``, else raise MetadataValidationError naming it."""
    if value == ".":
        return "."
    if value == "/":
        return "/"
    raise MetadataValidationError(f"{where} must be '.' or '/', got {value!r}")


def _check_coords(coords: tuple[int, ...]) -> None:
    for c in coords:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError(f"chunk coordinates must be non-negative integers, got {coords!r}")


def _parse_indices(parts: list[str], key: str) -> tuple[int, ...]:
    for part in parts:
        if not _INDEX.fullmatch(part):
            raise ValueError(f"{key!r} is not a chunk key: {part!r} is not a chunk index")
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class ChunkKeyEncoding(ABC):
    """Maps chunk coordinates to store keys (relative to the array) and back. Frozen dataclass."""

    name: ClassVar[str]
    separator: Separator = "/"

    def __post_init__(self) -> None:
        parse_separator(self.separator)

    @abstractmethod
    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        """The store key of the chunk at grid coordinates ``coords``."""

    @abstractmethod
    def decode_chunk_key(self, key: str, ndim: int | None = None) -> tuple[int, ...]:
        """The grid coordinates of chunk key ``key``; ValueError if it is not a key of this encoding.

        ``ndim`` (the array's dimensionality), when given, is checked, and tells a 0-d V2 key from a 1-d one.
        """

    def to_dict(self) -> dict[str, Any]:
        """The Zarr V3 ``chunk_key_encoding`` JSON object, as zarr-python 3 writes it."""
        return {"name": self.name, "configuration": {"separator": self.separator}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``{"name": ..., "configuration": {"separator": ...}}`` (the configuration may be omitted)."""
        extra = set(data) - {"name", "configuration"}
        if extra:
            raise MetadataValidationError(
                f"chunk_key_encoding {data.get('name')!r} has unexpected keys {sorted(extra)}"
            )
        config = data.get("configuration")
        if config is None:
            return cls()
        if not isinstance(config, Mapping):
            raise MetadataValidationError(f"chunk_key_encoding 'configuration' must be an object, got {config!r}")
        unknown = set(config) - {"separator"}
        if unknown:
            raise MetadataValidationError(
                f"chunk_key_encoding {cls.name!r} configuration has unexpected keys {sorted(unknown)}"
            )
        if "separator" not in config:
            return cls()
        return cls(separator=parse_separator(config["separator"], "chunk_key_encoding 'separator'"))


@dataclass(frozen=True)
class DefaultChunkKeyEncoding(ChunkKeyEncoding):
    """The Zarr V3 ``default`` encoding: ``c`` then the coordinates, joined by the separator."""

    name: ClassVar[str] = "default"
    separator: Separator = "/"

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        _check_coords(coords)
        return self.separator.join(("c", *map(str, coords)))

    def decode_chunk_key(self, key: str, ndim: int | None = None) -> tuple[int, ...]:
        if key == "c":
            coords: tuple[int, ...] = ()
        elif key.startswith("c" + self.separator):
            coords = _parse_indices(key[2:].split(self.separator), key)
        else:
            raise ValueError(f"{key!r} is not a chunk key of the default encoding (separator {self.separator!r})")
        if ndim is not None and len(coords) != ndim:
            raise ValueError(f"chunk key {key!r} has {len(coords)} coordinates, expected {ndim}")
        return coords


@dataclass(frozen=True)
class V2ChunkKeyEncoding(ChunkKeyEncoding):
    """The Zarr V2 encoding: the coordinates joined by the separator; ``0`` for a 0-d array."""

    name: ClassVar[str] = "v2"
    separator: Separator = "."

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        _check_coords(coords)
        return self.separator.join(map(str, coords)) if coords else "0"

    def decode_chunk_key(self, key: str, ndim: int | None = None) -> tuple[int, ...]:
        if ndim == 0:
            if key != "0":
                raise ValueError(f"{key!r} is not the chunk key of a 0-d array (that is '0')")
            return ()
        coords = _parse_indices(key.split(self.separator), key)
        if ndim is not None and len(coords) != ndim:
            raise ValueError(f"chunk key {key!r} has {len(coords)} coordinates, expected {ndim}")
        return coords


def _check_chunk_key_encoding(name: str, cls: object) -> type[ChunkKeyEncoding]:
    if not (isinstance(cls, type) and issubclass(cls, ChunkKeyEncoding)):
        raise TypeError(f"register_chunk_key_encoding needs a ChunkKeyEncoding subclass, got {cls!r}")
    return cls


#: The chunk key encoding registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`).
CHUNK_KEY_ENCODING_REGISTRY: Final = ExtensionRegistry[type[ChunkKeyEncoding]](
    "chunk_key_encoding",
    ENTRY_POINT_GROUP,
    _check_chunk_key_encoding,
    builtins={"default": DefaultChunkKeyEncoding, "v2": V2ChunkKeyEncoding},
    unknown="unknown {kind} {name!r}; known: {known}",
    logger=logger,
)


def register_chunk_key_encoding(name: str, cls: type[ChunkKeyEncoding]) -> None:
    """Register a :class:`ChunkKeyEncoding` subclass under ``name`` (replacing any earlier one)."""
    CHUNK_KEY_ENCODING_REGISTRY.register(name, cls)


def get_chunk_key_encoding_class(name: str) -> type[ChunkKeyEncoding]:
    """The class registered under ``name``; MetadataValidationError naming it if unknown."""
    return CHUNK_KEY_ENCODING_REGISTRY.get(name)


def parse_chunk_key_encoding(value: ChunkKeyEncoding | Mapping[str, Any] | str) -> ChunkKeyEncoding:
    """Parse a chunk key encoding: an instance, a name (``"default"``, ``"v2"``), the V3 JSON object
    ``{"name": ..., "configuration": {...}}``, or the short form ``{"name": ..., "separator": ...}``."""
    if isinstance(value, ChunkKeyEncoding):
        return value
    if isinstance(value, str):
        return get_chunk_key_encoding_class(value)()
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        raise MetadataValidationError(
            f"chunk_key_encoding must be an object with a 'name' (and a 'configuration'), got {value!r}"
        )
    if "separator" in value and "configuration" not in value:
        value = {"name": value["name"], "configuration": {"separator": value["separator"]}}
    return get_chunk_key_encoding_class(value["name"]).from_dict(value)

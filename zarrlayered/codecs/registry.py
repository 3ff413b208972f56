"""The V3 codec registry: built-in codecs, runtime registrations and the ``zarrlayered.codecs`` entry points.

Lookup order for a name: codecs registered at runtime with :func:`register_codec`, the built-ins, then
the entry points of the group ``zarrlayered.codecs`` (each loaded lazily, once), and finally any
``numcodecs.<id>`` name whose id numcodecs knows.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

from zarrlayered.codecs.abc import BaseCodec
from zarrlayered.errors import MetadataValidationError

__all__ = ["ENTRY_POINT_GROUP", "get_codec_class", "parse_codec_v3", "parse_codecs_v3", "register_codec"]

logger = logging.getLogger("zarrlayered.codec")

#: The entry-point group third-party packages use to provide codecs.
ENTRY_POINT_GROUP: Final = "zarrlayered.codecs"

#: Built-in codecs, as ``module:Class`` so that a lookup imports only the module it needs.
_BUILTINS: Final[dict[str, str]] = {
    "bytes": "zarrlayered.codecs.bytes:BytesCodec",
    "transpose": "zarrlayered.codecs.transpose:TransposeCodec",
    "gzip": "zarrlayered.codecs.gzip:GzipCodec",
    "zstd": "zarrlayered.codecs.zstd:ZstdCodec",
    "blosc": "zarrlayered.codecs.blosc:BloscCodec",
    "crc32c": "zarrlayered.codecs.crc32c:Crc32cCodec",
    "vlen-utf8": "zarrlayered.codecs.vlen:VLenUTF8Codec",
    "vlen-bytes": "zarrlayered.codecs.vlen:VLenBytesCodec",
    "sharding_indexed": "zarrlayered.codecs.sharding:ShardingCodec",
}

_NUMCODECS_PREFIX: Final = "numcodecs."

_lock = threading.Lock()
_registered: dict[str, type[BaseCodec]] = {}
_loaded: dict[str, type[BaseCodec]] = {}
_entry_points: dict[str, EntryPoint] | None = None


def register_codec(name: str, cls: type[BaseCodec]) -> None:
    """Register ``cls`` under the V3 codec name ``name``; it takes precedence over built-ins.

    Parameters
    ----------
    name
        The V3 ``name`` of the codec in metadata documents.
    cls
        A :class:`~zarrlayered.codecs.abc.BaseCodec` subclass.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"codec name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, BaseCodec)):
        raise TypeError(f"codec class for {name!r} must be a BaseCodec subclass, got {cls!r}")
    with _lock:
        _registered[name] = cls


def _load(target: str, name: str) -> type[BaseCodec]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, BaseCodec)):
        raise MetadataValidationError(f"codec {name!r} resolves to {cls!r}, which is not a BaseCodec subclass")
    return cls


def _codec_entry_points() -> dict[str, EntryPoint]:
    global _entry_points
    if _entry_points is None:
        _entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return _entry_points


def get_codec_class(name: str) -> type[BaseCodec]:
    """The codec class for the V3 codec name ``name``.

    Raises
    ------
    MetadataValidationError
        If no codec of that name is known.
    """
    if not isinstance(name, str):
        raise MetadataValidationError(f"codec field 'name' must be a string, got {name!r}")
    found = _registered.get(name) or _loaded.get(name)
    if found is not None:
        return found
    with _lock:
        found = _registered.get(name) or _loaded.get(name)
        if found is not None:
            return found
        if name in _BUILTINS:
            try:
                found = _load(_BUILTINS[name], name)
            except (ImportError, AttributeError) as exc:
                raise MetadataValidationError(f"codec {name!r} is not available: {exc}") from exc
        elif name in (eps := _codec_entry_points()):
            logger.debug("loading codec %r from entry point %s", name, eps[name].value)
            loaded = eps[name].load()
            if not (isinstance(loaded, type) and issubclass(loaded, BaseCodec)):
                raise MetadataValidationError(f"entry point for codec {name!r} gives {loaded!r}, not a BaseCodec")
            found = loaded
        elif name.startswith(_NUMCODECS_PREFIX):
            from zarrlayered.codecs.numcodecs_v3 import numcodecs_codec_class

            found = numcodecs_codec_class(name.removeprefix(_NUMCODECS_PREFIX))
        else:
            raise MetadataValidationError(f"unknown codec {name!r}")
        _loaded[name] = found
        return found


def parse_codec_v3(value: Any) -> BaseCodec:
    """Turn a user or metadata value into a codec.

    Parameters
    ----------
    value
        A codec object (returned as is); a V3 JSON document ``{"name": ..., "configuration": {...}}``;
        a bare codec name (``"zstd"``); a numcodecs codec object (wrapped as the ``numcodecs.<id>``
        V3 codec); or any object with a ``to_dict()`` giving a V3 document (a zarr-python 3 codec).

    Raises
    ------
    MetadataValidationError
        For an unknown codec name or a bad configuration, naming it.
    """
    if isinstance(value, BaseCodec):
        return value
    if isinstance(value, str):
        cls = get_codec_class(value)
        try:
            return cls()  # the codec with its default configuration
        except TypeError:  # the codec has required parameters: let from_dict name the missing field
            return cls.from_dict({"name": value})
    if isinstance(value, Mapping):
        name = value.get("name")
        if not isinstance(name, str):
            raise MetadataValidationError(f"codec field 'name' must be a string, got {name!r} in {dict(value)!r}")
        return get_codec_class(name).from_dict(value)
    import numcodecs.abc

    if isinstance(value, numcodecs.abc.Codec):
        from zarrlayered.codecs.numcodecs_v3 import wrap_numcodecs_codec

        return wrap_numcodecs_codec(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        document: object = to_dict()
        if isinstance(document, Mapping):
            return parse_codec_v3(document)
    raise MetadataValidationError(f"cannot interpret {value!r} as a codec")


def parse_codecs_v3(values: Iterable[Any]) -> tuple[BaseCodec, ...]:
    """Apply :func:`parse_codec_v3` to each value; a single codec or document is accepted too."""
    if isinstance(values, str | Mapping | BaseCodec):
        return (parse_codec_v3(values),)
    return tuple(parse_codec_v3(v) for v in values)

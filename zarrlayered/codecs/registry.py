"""The V3 codec registry: built-in codecs, runtime registrations and the ``zarrlayered.codecs`` entry points.

Lookup order for a name: codecs registered at runtime with :func:`register_codec`, the built-ins, then
the entry points of the group ``zarrlayered.codecs`` (each loaded lazily, once), and finally any
``numcodecs.<id>`` name whose id numcodecs knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

from zarrlayered.codecs.abc import BaseCodec
from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "CODEC_REGISTRY",
    "ENTRY_POINT_GROUP",
    "get_codec_class",
    "parse_codec_v3",
    "parse_codecs_v3",
    "register_codec",
]

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


def _check_codec(name: str, cls: object) -> type[BaseCodec]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"codec name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, BaseCodec)):
        raise TypeError(f"codec class for {name!r} must be a BaseCodec subclass, got {cls!r}")
    return cls


def _numcodecs_fallback(name: str) -> type[BaseCodec] | None:
    if not name.startswith(_NUMCODECS_PREFIX):
        return None
    from zarrlayered.codecs.numcodecs_v3 import numcodecs_codec_class

    return numcodecs_codec_class(name.removeprefix(_NUMCODECS_PREFIX))


#: The codec registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`).
CODEC_REGISTRY: Final = ExtensionRegistry[type[BaseCodec]](
    "codec", ENTRY_POINT_GROUP, _check_codec, builtins=_BUILTINS, fallback=_numcodecs_fallback, logger=logger
)


def register_codec(name: str, cls: type[BaseCodec]) -> None:
    """Register ``cls`` under the V3 codec name ``name``; it takes precedence over built-ins.

    Parameters
    ----------
    name
        The V3 ``name`` of the codec in metadata documents.
    cls
        A :class:`~zarrlayered.codecs.abc.BaseCodec` subclass.
    """
    CODEC_REGISTRY.register(name, cls)


def get_codec_class(name: str) -> type[BaseCodec]:
    """The codec class for the V3 codec name ``name``.

    Raises
    ------
    MetadataValidationError
        If no codec of that name is known, or the module providing it cannot be loaded.
    """
    if not isinstance(name, str):
        raise MetadataValidationError(f"codec field 'name' must be a string, got {name!r}")
    return CODEC_REGISTRY.get(name)


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

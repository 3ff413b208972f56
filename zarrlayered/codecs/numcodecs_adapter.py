"""Zarr V2 chunk encoding through numcodecs: :func:`parse_v2_codec` and the whole-pipeline :class:`V2Codec`.

A V2 chunk is the array's elements in ``order`` (C or F), passed through the ``filters`` then the
``compressor``; object arrays go through their object codec (VLenUTF8, VLenBytes, JSON, ...) in the
filters. The bytes are identical to what zarr-python 2.18 and 3 write for the same array.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

import numcodecs
import numcodecs.abc
import numcodecs.checksum32
import numpy as np
from numcodecs.compat import ensure_contiguous_ndarray, ensure_ndarray_like

from zarrlayered.codecs.abc import (
    ArrayBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import (
    bounded_decompress,
    check_vlen_items,
    chunk_nbytes_bound,
    is_variable_length,
    max_encoded_nbytes,
    vlen_nbytes_bound,
)
from zarrlayered.codecs.zstd import compress_frame
from zarrlayered.core.config import allow_pickle
from zarrlayered.errors import ChecksumError, MetadataValidationError, UnsafeCodecError

__all__ = [
    "UNSAFE_CODEC_IDS",
    "V2Codec",
    "check_codec_allowed",
    "codec_config",
    "numcodec_decode",
    "parse_v2_codec",
]

logger = logging.getLogger("zarrlayered.codec")

#: numcodecs object codecs whose chunks start with their item count (checked before numcodecs allocates).
_VLEN_CODECS: Final = (numcodecs.VLenUTF8, numcodecs.VLenBytes, numcodecs.VLenArray)

#: numcodecs checksum codecs: a mismatch is a ChecksumError.
_CHECKSUM_CODECS: Final = (numcodecs.checksum32.Checksum32, numcodecs.Fletcher32)

#: numcodecs codec ids whose decoding can execute code taken from the data.
UNSAFE_CODEC_IDS: Final = frozenset({"pickle"})


def _is_unsafe(codec_id: object, codec: object = None) -> bool:
    pickle_cls = getattr(numcodecs, "Pickle", None)
    return codec_id in UNSAFE_CODEC_IDS or (pickle_cls is not None and isinstance(codec, pickle_cls))


def check_codec_allowed(codec_id: object, codec: object = None) -> None:
    """Raise UnsafeCodecError if the codec can run code and config ``codecs.allow_pickle`` is not True.

    Parameters
    ----------
    codec_id
        The numcodecs id (``"pickle"``).
    codec
        The codec object, when there is one (a subclass of Pickle under another id is refused too).
    """
    if _is_unsafe(codec_id, codec) and not allow_pickle():
        raise UnsafeCodecError(
            f"the numcodecs codec {codec_id!r} can execute arbitrary code when decoding and is refused; "
            "set zarrlayered.config.set({'codecs.allow_pickle': True}) only for data you trust"
        )


def parse_v2_codec(value: numcodecs.abc.Codec | Mapping[str, Any] | None) -> numcodecs.abc.Codec | None:
    """Turn a V2 compressor/filter value into a numcodecs codec.

    Parameters
    ----------
    value
        None, a numcodecs codec object, or its config ``{"id": "zlib", "level": 1}``.

    Raises
    ------
    UnsafeCodecError
        For the Pickle codec unless config ``codecs.allow_pickle`` is True.
    MetadataValidationError
        For an unknown codec id or a bad configuration, naming it.
    """
    if value is None:
        return None
    if isinstance(value, numcodecs.abc.Codec):
        check_codec_allowed(getattr(value, "codec_id", None), value)
        return value
    if not isinstance(value, Mapping):
        raise MetadataValidationError(f"a V2 codec must be a numcodecs codec or a config dict, got {value!r}")
    codec_id = value.get("id")
    if not isinstance(codec_id, str):
        raise MetadataValidationError(f"V2 codec field 'id' must be a string, got {codec_id!r} in {dict(value)!r}")
    check_codec_allowed(codec_id)
    try:
        codec = numcodecs.get_codec(dict(value))
    except (ValueError, TypeError, KeyError, ImportError) as exc:
        raise MetadataValidationError(
            f"cannot build the numcodecs codec {codec_id!r} from {dict(value)!r}: {exc}"
        ) from exc
    check_codec_allowed(codec_id, codec)
    return codec


def numcodec_decode(codec: numcodecs.abc.Codec, data: Any, max_nbytes: int | None = None) -> Any:
    """``codec.decode(data)``, with the Pickle codec decoded under zarrlayered's own opt-in.

    numcodecs gates Pickle decoding with a process-wide switch; zarrlayered's scoped config
    ``codecs.allow_pickle`` replaces it, and is checked again here at every decode.

    Parameters
    ----------
    codec
        The numcodecs codec.
    data
        The encoded data.
    max_nbytes
        The most bytes a compressor may decode to (checked before allocating; see
        :func:`~zarrlayered.codecs.limits.bounded_decompress`), or None for no bound.
    """
    if _is_unsafe(getattr(codec, "codec_id", None), codec):
        check_codec_allowed(getattr(codec, "codec_id", None), codec)
        return pickle.loads(ensure_contiguous_ndarray(data))  # opted in through config
    if isinstance(codec, _CHECKSUM_CODECS):
        try:
            return codec.decode(data)
        except (RuntimeError, ValueError) as exc:  # numcodecs reports a mismatch as a RuntimeError
            raise ChecksumError(f"codec {codec.codec_id!r}: {exc}; the chunk is corrupt") from exc
    if max_nbytes is not None and isinstance(data, bytes | memoryview):
        return bounded_decompress(codec, data, max_nbytes)
    return codec.decode(data)


def codec_config(codec: numcodecs.abc.Codec) -> dict[str, Any]:
    """The JSON config of a numcodecs codec (``{"id": ..., ...}``)."""
    result: dict[str, Any] = codec.get_config()
    return result


def _parse_filters(value: Iterable[Any] | None) -> tuple[numcodecs.abc.Codec, ...] | None:
    if value is None:
        return None
    if isinstance(value, numcodecs.abc.Codec | Mapping | str):
        raise MetadataValidationError(f"V2 field 'filters' must be a list of codecs or None, got {value!r}")
    parsed: list[numcodecs.abc.Codec] = []
    for item in value:
        codec = parse_v2_codec(item)
        if codec is None:
            raise MetadataValidationError(f"V2 field 'filters' must not contain null entries, got {value!r}")
        parsed.append(codec)
    return tuple(parsed)


def _as_buffer(value: Any) -> BytesLike:
    if isinstance(value, bytes | memoryview):
        return value
    array = ensure_ndarray_like(value)
    return array.reshape(-1, order="A").view(np.uint8).data  # type: ignore[no-any-return]


@dataclass(frozen=True)
class V2Codec(ArrayBytesCodec):
    """The whole Zarr V2 chunk pipeline as one array -> bytes codec.

    Parameters
    ----------
    filters
        numcodecs codecs applied in order before the compressor (or None); config dicts are accepted.
    compressor
        The numcodecs compressor, or None; a config dict is accepted.

    Notes
    -----
    ``spec.order`` is the V2 ``order``: the layout of the elements in the stored bytes. Decoding returns
    an array in that layout (a reshape of the decoded buffer, no copy).
    """

    filters: tuple[numcodecs.abc.Codec, ...] | None = None
    compressor: numcodecs.abc.Codec | None = None

    codec_name: ClassVar[str] = "zarr-v2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", _parse_filters(self.filters))
        object.__setattr__(self, "compressor", parse_v2_codec(self.compressor))

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    def to_dict(self) -> dict[str, Any]:
        """A JSON form (not a V3 codec): ``{"name": "zarr-v2", "configuration": {filters, compressor}}``."""
        return {
            "name": self.codec_name,
            "configuration": {
                "filters": None if self.filters is None else [codec_config(f) for f in self.filters],
                "compressor": None if self.compressor is None else codec_config(self.compressor),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the form written by :meth:`to_dict`."""
        _, configuration = parse_named_configuration(data, cls.codec_name, require_configuration=False)
        check_fields(cls.codec_name, configuration, {"filters", "compressor"})
        return cls(filters=configuration.get("filters"), compressor=configuration.get("compressor"))

    def validate(self, spec: ChunkSpec) -> None:
        """Object and string arrays need an object codec among the filters."""
        if spec.dtype.kind in "OT" and not self.filters:
            raise MetadataValidationError(
                f"V2 arrays of dtype {spec.dtype} need an object codec (e.g. VLenUTF8) in 'filters', got none"
            )

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """The same size when there are no filters and no compressor; ValueError otherwise."""
        if self.filters or self.compressor is not None:
            raise ValueError("codec 'zarr-v2' with filters or a compressor has no fixed encoded size")
        return input_byte_length

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Lay the chunk out in ``spec.order``, apply the filters, then the compressor."""
        data: Any = chunk.astype(spec.dtype, order=spec.order, copy=False)
        for f in self.filters or ():
            data = f.encode(data)
        if ensure_ndarray_like(data).dtype == object:
            raise MetadataValidationError(f"cannot write an array of dtype {spec.dtype} without an object codec")
        compressor = self.compressor
        if compressor is not None and type(compressor) is numcodecs.Zstd:  # not a subclass: its own encode
            # the frame numcodecs would write, from a compressor that keeps its context between chunks
            data = compress_frame(ensure_contiguous_ndarray(data), compressor.level, compressor.checksum)
        elif compressor is not None:
            data = compressor.encode(data)
        return _as_buffer(data)

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decompress, undo the filters, and view the result as the chunk (in ``spec.order``).

        The compressor may decode to no more bytes than the chunk holds (a generous multiple of it when
        filters change the element size; for object arrays,
        :func:`~zarrlayered.codecs.limits.vlen_nbytes_bound` of the item count and the encoded size).
        """
        if is_variable_length(spec.dtype):  # no size from the metadata
            limit = vlen_nbytes_bound(spec.size, memoryview(data).nbytes)
        else:
            limit = chunk_nbytes_bound(spec.shape, spec.dtype)
            if self.filters:
                limit = max_encoded_nbytes(8 * limit)
        decoded: Any = data if self.compressor is None else numcodec_decode(self.compressor, data, limit)
        for f in reversed(self.filters or ()):
            if isinstance(f, _VLEN_CODECS):
                check_vlen_items(f.codec_id, decoded, spec.size)
            decoded = numcodec_decode(f, decoded, limit)  # a compressor used as a filter is bounded too
        array: np.ndarray[Any, Any] = ensure_ndarray_like(decoded)
        if spec.dtype.kind in "OT":
            if array.dtype != object and array.dtype.kind != "T":
                raise MetadataValidationError(f"cannot read an array of dtype {spec.dtype} without an object codec")
            if array.dtype != spec.dtype:
                array = array.astype(spec.dtype)
        elif array.dtype != spec.dtype:
            array = array.view(spec.dtype)
        if array.shape == tuple(spec.shape):  # object codecs (JSON, MsgPack) keep the chunk's logical shape
            return array
        array = array.reshape(-1, order="A")
        return array.reshape(spec.shape, order=spec.order)

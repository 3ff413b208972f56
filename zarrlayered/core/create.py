"""Array metadata from ``create_array``'s keyword arguments, with zarr-python 3's defaults.

Defaults match zarr-python 3 so the documents look alike: a ``zstd`` level-0 compressor, a
little-endian ``bytes`` serializer (``vlen-utf8`` / ``vlen-bytes`` for variable-length strings and
bytes), the data type's default fill value, the ``default`` chunk key encoding with ``/``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numcodecs
import numpy as np

from zarrlayered.codecs.abc import ArrayArrayCodec, ArrayBytesCodec, BaseCodec, BytesBytesCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.numcodecs_adapter import parse_v2_codec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.sharding import ShardingCodec
from zarrlayered.codecs.vlen import VLenBytesCodec, VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.core.chunk_grids import (
    ChunkGrid,
    RectilinearChunkGrid,
    RegularChunkGrid,
    guess_chunks,
    normalize_chunks,
)
from zarrlayered.core.chunk_key_encodings import (
    ChunkKeyEncoding,
    DefaultChunkKeyEncoding,
    V2ChunkKeyEncoding,
    parse_chunk_key_encoding,
)
from zarrlayered.core.config import config
from zarrlayered.core.dtypes import DataType, data_type_from_v2, find_object_codec_id, parse_dtype
from zarrlayered.core.metadata import ArrayMetadata, ArrayV2Metadata, ArrayV3Metadata
from zarrlayered.errors import MetadataValidationError


class _DefaultFill:
    """The ``fill_value`` of a call that gave none: the data type's default (V2: explicit None means null)."""

    def __repr__(self) -> str:
        return "DEFAULT_FILL"


DEFAULT_FILL: Any = _DefaultFill()

__all__ = [
    "DEFAULT_FILL","build_array_metadata", "parse_zarr_format"]

CodecsLike = Any


def parse_zarr_format(value: object) -> Literal[2, 3]:
    """2 or 3 (None means config ``default_zarr_format``); anything else is a ValueError naming it."""
    if value is None:
        value = config.get("default_zarr_format")
    if value not in (2, 3) or isinstance(value, bool):
        raise MetadataValidationError(f"zarr_format must be 2 or 3, got {value!r}")
    return value  # type: ignore[return-value,unused-ignore]


def _parse_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (int(shape),)
    try:
        parsed = tuple(int(n) for n in shape)
    except TypeError:
        raise MetadataValidationError(f"shape must be an int or a sequence of ints, got {shape!r}") from None
    if any(n < 0 for n in parsed):
        raise MetadataValidationError(f"shape must not have negative lengths, got {parsed!r}")
    return parsed


def _is_object_dtype(dtype: Any) -> bool:
    """``object``, ``"O"``, ``"|O"`` or ``np.dtype("O")`` (not ``str``/``bytes``, which name variable-length types)."""
    if dtype is object:
        return True
    if isinstance(dtype, np.dtype):
        return dtype.kind == "O"
    return isinstance(dtype, str) and dtype in ("O", "|O", "object")


def _parse_data_type(dtype: Any, zarr_format: Literal[2, 3], filters: Any) -> DataType:
    """The data type; a V2 ``dtype=object`` takes its meaning from the object codec in ``filters`` (zarr-python 2)."""
    if zarr_format == 2 and _is_object_dtype(dtype):
        codec_id = find_object_codec_id([] if filters in (None, "auto") else _as_list(filters))
        if codec_id is None:
            raise MetadataValidationError(
                f"dtype={dtype!r} needs an object codec in filters= (numcodecs VLenUTF8, VLenBytes, JSON, MsgPack, "
                "Pickle or VLenArray), or ask for dtype=str / dtype=bytes"
            )
        return data_type_from_v2(np.dtype("O"), codec_id)
    return parse_dtype(dtype, zarr_format)


def _is_variable_length(data_type: DataType) -> str | None:
    """'string' or 'bytes' for variable-length data types, else None."""
    code = data_type.object_codec_id
    if code in ("vlen-utf8", "vlen-bytes"):
        return "string" if code == "vlen-utf8" else "bytes"
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, BaseCodec | Mapping | str | numcodecs.abc.Codec):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _chunk_grid(chunks: Any, shape: tuple[int, ...], itemsize: int) -> ChunkGrid:
    if isinstance(chunks, ChunkGrid):
        return chunks
    normalized = normalize_chunks(chunks, shape, itemsize)
    if all(isinstance(c, int) for c in normalized):
        return RegularChunkGrid(chunk_shape=tuple(int(c) for c in normalized))  # type: ignore[arg-type,unused-ignore]
    return RectilinearChunkGrid(
        chunk_shapes=tuple((c,) if isinstance(c, int) else tuple(c) for c in normalized)
    )


#: zarr-python 3 aims inner chunks at 1 MiB when it guesses them for a sharded array.
_SHARDED_CHUNK_MAX_BYTES = 1024 * 1024


def _parse_shards(shards: Any, shape: tuple[int, ...], chunks: Any, itemsize: int) -> tuple[
    tuple[int, ...], tuple[int, ...], Literal["start", "end"]
]:
    """(shard shape, inner chunk shape, index location) from ``shards=`` and ``chunks=``, as zarr-python 3.

    ``shards`` is a shape, ``{"shape": ..., "index_location": "start" | "end"}`` or ``"auto"`` (each axis
    longer than 8 chunks gets 2 chunks per shard). ``chunks="auto"`` then aims at 1 MiB inner chunks.
    """
    if (isinstance(chunks, str) and chunks == "auto") or chunks is None or chunks is True:
        inner = guess_chunks(shape, itemsize, max_bytes=_SHARDED_CHUNK_MAX_BYTES)
    else:
        normalized = normalize_chunks(chunks, shape, itemsize)
        if not all(isinstance(c, int) for c in normalized):
            raise MetadataValidationError(f"chunks must be regular when shards= is given, got {chunks!r}")
        inner = tuple(int(c) for c in normalized)  # type: ignore[arg-type]
    location: Any = "end"
    if isinstance(shards, str) and shards == "auto":
        outer = tuple(c * 2 if n // c > 8 else c for n, c in zip(shape, inner, strict=True))
    else:
        if isinstance(shards, Mapping):
            if "shape" not in shards:
                raise MetadataValidationError(f"shards as a dict needs a 'shape' key, got {dict(shards)!r}")
            location = shards.get("index_location") or "end"
            shards = shards["shape"]
        outer = _parse_shape(shards)
    if location not in ("start", "end"):
        raise MetadataValidationError(f"shards index_location must be 'start' or 'end', got {location!r}")
    if len(outer) != len(shape) or any(s < 1 for s in outer):
        raise MetadataValidationError(f"shards must be {len(shape)} positive lengths, got {shards!r}")
    if any(s % c for s, c in zip(outer, inner, strict=True)):
        raise MetadataValidationError(f"shards {outer} must be divisible by the chunk shape {inner}")
    return outer, inner, location


def _v3_codecs(
    data_type: DataType, filters: Any, serializer: Any, compressors: Any
) -> tuple[BaseCodec, ...]:
    variable = _is_variable_length(data_type)
    aa = [] if filters in (None, "auto") else [parse_codec_v3(c) for c in _as_list(filters)]
    if serializer in (None, "auto"):
        ab: BaseCodec
        if variable == "string":
            ab = VLenUTF8Codec()
        elif variable == "bytes":
            ab = VLenBytesCodec()
        else:
            # zarr-python 3 stores every multi-byte type little-endian unless a serializer says otherwise,
            # whatever the byte order of the requested numpy dtype
            ab = BytesCodec(endian="little")
    else:
        ab = parse_codec_v3(serializer)
    if compressors == "auto":
        bb: list[BaseCodec] = [ZstdCodec(level=0, checksum=False)]
    else:
        bb = [parse_codec_v3(c) for c in _as_list(compressors)]
    for codec in aa:
        if not isinstance(codec, ArrayArrayCodec):
            raise MetadataValidationError(f"filters must be array -> array codecs, got {codec!r}")
    if not isinstance(ab, ArrayBytesCodec):
        raise MetadataValidationError(f"serializer must be an array -> bytes codec, got {ab!r}")
    for codec in bb:
        if not isinstance(codec, BytesBytesCodec):
            raise MetadataValidationError(f"compressors must be bytes -> bytes codecs, got {codec!r}")
    return (*aa, ab, *bb)


def _v2_codecs(
    data_type: DataType, filters: Any, compressors: Any, compressor: Any
) -> tuple[Any, tuple[Any, ...] | None]:
    if compressor is not None and compressors not in ("auto", None):
        raise MetadataValidationError("pass either compressor= or compressors=, not both")
    if compressor is not None:
        comp_list = [compressor]
    elif compressors == "auto":
        comp_list = [{"id": "zstd", "level": 0}]
    else:
        comp_list = _as_list(compressors)
    if len(comp_list) > 1:
        raise MetadataValidationError(f"Zarr V2 arrays take at most one compressor, got {comp_list!r}")
    comp = parse_v2_codec(comp_list[0]) if comp_list else None
    filter_list = [] if filters in (None, "auto") else [parse_v2_codec(f) for f in _as_list(filters)]
    object_codec = data_type.object_codec_id
    object_ids = ("vlen-utf8", "vlen-bytes", "json2", "msgpack2", "vlen-array")
    if object_codec is not None and not any(getattr(f, "codec_id", None) in object_ids for f in filter_list):
        filter_list.insert(0, parse_v2_codec({"id": object_codec}))
    return comp, (tuple(f for f in filter_list if f is not None) or None)


def build_array_metadata(
    *,
    shape: Any,
    dtype: Any,
    chunks: Any = "auto",
    shards: Any = None,
    filters: CodecsLike = "auto",
    compressors: CodecsLike = "auto",
    compressor: Any = None,
    serializer: Any = "auto",
    fill_value: Any = DEFAULT_FILL,
    order: Literal["C", "F"] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    attributes: Mapping[str, Any] | None = None,
    chunk_key_encoding: ChunkKeyEncoding | Mapping[str, Any] | None = None,
    dimension_separator: Literal[".", "/"] | None = None,
    dimension_names: Sequence[str | None] | None = None,
) -> ArrayMetadata:
    """The metadata of a new array, from ``create_array``'s arguments.

    Raises
    ------
    MetadataValidationError
        Naming the argument and value that cannot be used.
    """
    fmt = parse_zarr_format(zarr_format)
    parsed_shape = _parse_shape(shape)
    data_type = _parse_data_type(dtype, fmt, filters)
    itemsize = data_type.numpy_dtype.itemsize or 8
    sharding: tuple[tuple[int, ...], tuple[int, ...], Literal["start", "end"]] | None = None
    if shards is not None:
        if fmt == 2:
            raise MetadataValidationError(f"Zarr V2 arrays cannot be sharded; got shards={shards!r}")
        sharding = _parse_shards(shards, parsed_shape, chunks, itemsize)
        grid: ChunkGrid = RegularChunkGrid(chunk_shape=sharding[0])
    else:
        grid = _chunk_grid(chunks, parsed_shape, itemsize)
    attrs = dict(attributes or {})
    if order is not None and order not in ("C", "F"):
        raise MetadataValidationError(f"order must be 'C' or 'F', got {order!r}")
    if fill_value is DEFAULT_FILL or (fill_value is None and fmt == 3):
        fill = data_type.default_fill_value()
    else:
        fill = fill_value  # an explicit None on a V2 array is written as null: no fill value
    if fmt == 2:
        if not isinstance(grid, RegularChunkGrid):
            raise MetadataValidationError("Zarr V2 arrays need regular chunks; variable chunking is Zarr V3 only")
        if dimension_names is not None:
            raise MetadataValidationError("dimension_names is a Zarr V3 field; V2 arrays cannot store it")
        separator = dimension_separator
        if chunk_key_encoding is not None:
            cke = parse_chunk_key_encoding(chunk_key_encoding)
            if not isinstance(cke, V2ChunkKeyEncoding):
                raise MetadataValidationError(f"Zarr V2 arrays use the 'v2' chunk key encoding, got {cke!r}")
            separator = cke.separator
        comp, v2_filters = _v2_codecs(data_type, filters, compressors, compressor)
        return ArrayV2Metadata(
            shape=parsed_shape,
            chunks=grid.chunk_shape,
            dtype=data_type,  # type: ignore[arg-type]
            compressor=comp,
            filters=v2_filters,
            fill_value=fill,
            order=order or config.get("array.order"),
            dimension_separator=separator or ".",
            attributes=attrs,
        )
    if compressor is not None:
        raise MetadataValidationError("compressor= is the Zarr V2 spelling; use compressors= for Zarr V3")
    if dimension_separator is not None and chunk_key_encoding is None:
        chunk_key_encoding = DefaultChunkKeyEncoding(separator=dimension_separator)
    cke = parse_chunk_key_encoding(chunk_key_encoding) if chunk_key_encoding is not None else DefaultChunkKeyEncoding()
    codecs = _v3_codecs(data_type, filters, serializer, compressors)
    if sharding is not None:
        codecs = (ShardingCodec(chunk_shape=sharding[1], codecs=codecs, index_location=sharding[2]),)
    if order is not None:
        # zarr-python 3 accepts order= for V3 arrays and ignores it, with a warning
        warnings.warn(
            f"order={order!r} has no effect on Zarr V3 arrays (their chunks are stored in C order); add a "
            "transpose codec to filters= to store chunks in another order",
            RuntimeWarning,
            stacklevel=2,
        )
    return ArrayV3Metadata(
        shape=parsed_shape,
        data_type=data_type,
        chunk_grid=grid,
        chunk_key_encoding=cke,
        fill_value=fill,
        codecs=codecs,
        attributes=attrs,
        dimension_names=tuple(dimension_names) if dimension_names is not None else None,
    )

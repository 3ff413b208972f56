"""Zarr V2 array metadata: ``.zarray`` plus the attributes of ``.zattrs``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, Self

import numcodecs.abc
import numpy as np

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.numcodecs_adapter import V2Codec, codec_config, parse_v2_codec
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.chunk_key_encodings import Separator, V2ChunkKeyEncoding, parse_separator
from zarrlayered.core.dtypes import (
    DataType,
    InvalidFillValueError,
    data_type_from_v2,
    find_object_codec_id,
    parse_dtype,
    parse_v2_dtype,
    v2_dtype_to_json,
)
from zarrlayered.core.metadata.common import (
    ZARRAY_JSON,
    ZATTRS_JSON,
    ArrayMetadata,
    check_chunk_nbytes,
    dumps_json,
    parse_attributes,
    parse_chunk_shape,
    parse_order,
    parse_shape,
)
from zarrlayered.errors import MetadataValidationError

__all__ = ["ArrayV2Metadata"]

DOC: Final = ZARRAY_JSON
_REQUIRED: Final = ("shape", "chunks", "dtype")


def _parse_compressor(value: Any) -> numcodecs.abc.Codec | None:
    try:
        return parse_v2_codec(value)
    except MetadataValidationError as exc:
        raise MetadataValidationError(f"{DOC} field 'compressor' is invalid: {exc}") from None


def _parse_filters(value: object) -> tuple[numcodecs.abc.Codec, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes | Mapping | numcodecs.abc.Codec) or not isinstance(value, Iterable):
        raise MetadataValidationError(f"{DOC} field 'filters' must be a list of codecs or null, got {value!r}")
    out: list[numcodecs.abc.Codec] = []
    for item in value:
        try:
            codec = parse_v2_codec(item)
        except MetadataValidationError as exc:
            raise MetadataValidationError(f"{DOC} field 'filters' is invalid: {exc}") from None
        if codec is None:
            raise MetadataValidationError(f"{DOC} field 'filters' must not hold null entries, got {value!r}")
        out.append(codec)
    return tuple(out) or None


def _compressor_json(codec: numcodecs.abc.Codec) -> dict[str, Any]:
    config = dict(codec_config(codec))
    if config.get("id") == "zstd" and config.get("checksum") is False:
        config.pop("checksum")  # zarr-python 3 leaves a false zstd checksum out
    return config


@dataclass(frozen=True, eq=False)
class ArrayV2Metadata(ArrayMetadata):
    """The ``.zarray`` (and ``.zattrs``) of a Zarr V2 array.

    The constructor normalises and checks every field. ``dtype`` may be a numpy dtype, anything
    :func:`parse_dtype` takes, or a V2 ``dtype`` JSON value; string and byte arrays are numpy object arrays
    whose object codec (``vlen-utf8``, ``vlen-bytes``, ``json2``, ...) must be among ``filters``.
    ``fill_value`` may be None (``null``: chunks never written are left undefined by zarr 2).

    Parameters
    ----------
    shape
        The array shape.
    chunks
        The chunk shape.
    dtype
        The numpy dtype (byte order included).
    compressor
        A numcodecs codec or its config, or None.
    filters
        numcodecs codecs or configs, or None.
    fill_value
        The fill value, or None.
    order
        ``"C"`` or ``"F"``: the element layout inside a stored chunk.
    dimension_separator
        ``"."`` or ``"/"``: the chunk key separator.
    attributes
        The user attributes (the ``.zattrs`` document).
    """

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype[Any]
    compressor: numcodecs.abc.Codec | None = None
    filters: tuple[numcodecs.abc.Codec, ...] | None = None
    fill_value: Any = None
    order: Literal["C", "F"] = "C"
    dimension_separator: Separator = "."
    attributes: dict[str, Any] = field(default_factory=dict)
    _data_type: DataType = field(init=False, repr=False)

    zarr_format: ClassVar[Literal[2]] = 2

    def __post_init__(self) -> None:
        shape = parse_shape(self.shape, DOC)
        chunks = parse_chunk_shape(self.chunks, DOC, "chunks", len(shape))
        dtype = self._parse_dtype(self.dtype)
        compressor = _parse_compressor(self.compressor)
        filters = _parse_filters(self.filters)
        try:
            data_type = data_type_from_v2(dtype, find_object_codec_id(filters, compressor))
        except MetadataValidationError as exc:
            raise MetadataValidationError(f"{DOC} field 'dtype' is invalid: {exc}") from None
        check_chunk_nbytes(chunks, dtype, DOC, "chunks")
        try:
            fill = None if self.fill_value is None else data_type.cast_fill_value(self.fill_value)
        except InvalidFillValueError as exc:
            raise MetadataValidationError(f"{DOC} field 'fill_value' {exc.reason}") from None
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "chunks", chunks)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "compressor", compressor)
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "fill_value", fill)
        object.__setattr__(self, "order", parse_order(self.order, DOC))
        object.__setattr__(
            self, "dimension_separator", parse_separator(self.dimension_separator, f"{DOC} field 'dimension_separator'")
        )
        object.__setattr__(self, "attributes", parse_attributes(self.attributes, ZATTRS_JSON))
        object.__setattr__(self, "_data_type", data_type)

    @staticmethod
    def _parse_dtype(value: object) -> np.dtype[Any]:
        try:
            if isinstance(value, np.dtype):
                return parse_v2_dtype(v2_dtype_to_json(value))
            if isinstance(value, DataType):
                return value.numpy_dtype
            if isinstance(value, str | list):
                try:
                    return parse_dtype(value, 2).numpy_dtype
                except MetadataValidationError:
                    return parse_v2_dtype(value)  # e.g. "|O", whose meaning the filters give
            return parse_dtype(value, 2).numpy_dtype
        except MetadataValidationError as exc:
            raise MetadataValidationError(f"{DOC} field 'dtype' is invalid: {exc}") from None

    # ------------------------------------------------------------------------------------- properties
    @property
    def data_type(self) -> DataType:
        """The :class:`DataType` (for ``|O`` arrays, chosen by the object codec among the filters)."""
        return self._data_type

    @property
    def chunk_grid(self) -> RegularChunkGrid:
        """The regular grid of ``chunks``."""
        return RegularChunkGrid(chunk_shape=self.chunks)

    @property
    def chunk_key_encoding(self) -> V2ChunkKeyEncoding:
        """The ``v2`` chunk key encoding with this array's ``dimension_separator``."""
        return V2ChunkKeyEncoding(separator=self.dimension_separator)

    @property
    def dimension_names(self) -> None:
        """Zarr V2 has no dimension names."""
        return None

    @property
    def shards(self) -> None:
        """Zarr V2 has no shards."""
        return None

    def codec_chain(self) -> CodecChain:
        """``CodecChain((), V2Codec(filters, compressor), ())``."""
        return CodecChain((), V2Codec(filters=self.filters, compressor=self.compressor), ())

    def chunk_spec(self, coords: tuple[int, ...] | None = None) -> ChunkSpec:
        """Every chunk has shape ``chunks``; ``order`` is the stored layout."""
        return ChunkSpec(shape=self.chunks, dtype=self.dtype, fill_value=self.fill_value, order=self.order)

    # ------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """The ``.zarray`` document, keys in zarr-python 3's order."""
        return {
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": v2_dtype_to_json(self.dtype),
            "fill_value": None if self.fill_value is None else self.data_type.v2_fill_value_to_json(self.fill_value),
            "order": self.order,
            "filters": None if self.filters is None else [codec_config(f) for f in self.filters],
            "dimension_separator": self.dimension_separator,
            "compressor": None if self.compressor is None else _compressor_json(self.compressor),
            "zarr_format": 2,
        }

    def to_json_bytes(self) -> dict[str, bytes]:
        """``{".zarray": ..., ".zattrs": ...}``, byte for byte as zarr-python 3 writes them."""
        return {ZARRAY_JSON: dumps_json(self.to_dict()), ZATTRS_JSON: dumps_json(self.attributes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], attributes: Mapping[str, Any] | None = None) -> Self:
        """Parse a ``.zarray`` document (and the ``.zattrs`` object) strictly.

        ``fill_value`` accepts null, ``"NaN"``/``"Infinity"``/``"-Infinity"``, hex float bits, ``[re, im]``
        pairs, base64 bytes and the historic ``0`` of zarr 2 string/object arrays.
        """
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"{DOC} must hold a JSON object, got {data!r}")
        fmt = data.get("zarr_format")
        if fmt != 2 or isinstance(fmt, bool):
            raise MetadataValidationError(f"{DOC} field 'zarr_format' must be 2, got {fmt!r}")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise MetadataValidationError(f"{DOC} is missing the required field(s) {missing}")
        raw_dtype = data["dtype"]
        if not isinstance(raw_dtype, str | list):
            raise MetadataValidationError(f"{DOC} field 'dtype' must be a string or a list, got {raw_dtype!r}")
        try:
            dtype = parse_v2_dtype(raw_dtype)
        except MetadataValidationError as exc:
            raise MetadataValidationError(f"{DOC} field 'dtype' is invalid: {exc}") from None
        compressor = _parse_compressor(data.get("compressor"))
        filters = _parse_filters(data.get("filters"))
        try:
            data_type = data_type_from_v2(dtype, find_object_codec_id(filters, compressor))
        except MetadataValidationError as exc:
            raise MetadataValidationError(f"{DOC} field 'dtype' is invalid: {exc}") from None
        raw_fill = data.get("fill_value")
        try:
            fill = None if raw_fill is None else data_type.v2_fill_value_from_json(raw_fill)
        except InvalidFillValueError as exc:
            raise MetadataValidationError(f"{DOC} field 'fill_value' {exc.reason}") from None
        return cls(
            shape=data["shape"],
            chunks=data["chunks"],
            dtype=dtype,
            compressor=compressor,
            filters=filters,
            fill_value=fill,
            order=data.get("order", "C"),
            dimension_separator=data.get("dimension_separator", "."),
            attributes=parse_attributes(attributes, ZATTRS_JSON),
        )

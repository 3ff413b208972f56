"""Zarr V3 array metadata (``zarr.json`` with ``"node_type": "array"``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, Self

import numpy as np

from zarrlayered.codecs.abc import BaseCodec, ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.registry import parse_codecs_v3
from zarrlayered.core.chunk_grids import ChunkGrid, RectilinearChunkGrid, RegularChunkGrid, parse_chunk_grid
from zarrlayered.core.chunk_key_encodings import (
    ChunkKeyEncoding,
    DefaultChunkKeyEncoding,
    parse_chunk_key_encoding,
)
from zarrlayered.core.dtypes import DataType, InvalidFillValueError, parse_dtype, parse_v3_data_type
from zarrlayered.core.metadata.common import (
    MAX_ELEMENTS,
    ZARR_JSON,
    ArrayMetadata,
    check_chunk_nbytes,
    dumps_json,
    parse_attributes,
    parse_shape,
)
from zarrlayered.core.storage_transformers import StorageTransformer, parse_storage_transformers
from zarrlayered.errors import MetadataValidationError

__all__ = ["ARRAY_V3_KEYS", "ArrayV3Metadata", "parse_extra_fields"]

DOC: Final = ZARR_JSON

#: The keys a Zarr V3 array document may hold besides extension fields.
ARRAY_V3_KEYS: Final = frozenset(
    {
        "zarr_format",
        "node_type",
        "shape",
        "data_type",
        "chunk_grid",
        "chunk_key_encoding",
        "fill_value",
        "codecs",
        "attributes",
        "dimension_names",
        "storage_transformers",
    }
)
_REQUIRED: Final = ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs")


def _field_error(name: str, exc: Exception) -> MetadataValidationError:
    return MetadataValidationError(f"{DOC} field {name!r} is invalid: {exc}")


def parse_extra_fields(value: Mapping[str, Any] | None, reserved: frozenset[str], doc: str = DOC) -> dict[str, Any]:
    """Extension fields: each must be an object with ``"must_understand": false`` and not a reserved key."""
    if value is None:
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in reserved:
            raise MetadataValidationError(f"{doc} extension field {key!r} collides with a field of the document")
        if not (isinstance(item, Mapping) and item.get("must_understand") is False):
            raise MetadataValidationError(
                f"{doc} field {key!r} is not understood by zarrlayered, got {item!r} "
                '(an extension field can only be ignored when it is an object with "must_understand": false)'
            )
        out[key] = item
    return out


def _parse_dimension_names(value: object, ndim: int) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise MetadataValidationError(
            f"{DOC} field 'dimension_names' must be a list of strings or nulls, got {value!r}"
        )
    names = tuple(value)
    if not all(n is None or isinstance(n, str) for n in names):
        raise MetadataValidationError(
            f"{DOC} field 'dimension_names' must be a list of strings or nulls, got {value!r}"
        )
    if len(names) != ndim:
        raise MetadataValidationError(
            f"{DOC} field 'dimension_names' has {len(names)} name(s) but 'shape' has {ndim} dimension(s), "
            f"got {list(names)!r}"
        )
    return names


def _parse_storage_transformers(value: object) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise MetadataValidationError(f"{DOC} field 'storage_transformers' must be a list, got {value!r}")
    out = tuple(item.to_dict() if isinstance(item, StorageTransformer) else item for item in value)
    for item in out:
        if not isinstance(item, Mapping):
            raise MetadataValidationError(f"{DOC} field 'storage_transformers' must hold objects, got {item!r}")
    # known names (registry and entry points) are checked; unknown ones must say "must_understand": false
    parse_storage_transformers(out, where=f"{DOC} field 'storage_transformers'")
    return tuple(dict(item) for item in out)


@dataclass(frozen=True, eq=False)
class ArrayV3Metadata(ArrayMetadata):
    """The ``zarr.json`` of a Zarr V3 array.

    The constructor normalises and checks every field: ``data_type`` may be anything :func:`parse_dtype`
    takes (it is stored without byte order, as V3 describes it), ``chunk_grid`` / ``chunk_key_encoding`` /
    ``codecs`` may be objects or their JSON, a ``fill_value`` of None means the data type's default, and the
    codecs are fitted to the data type (``bytes`` endian, ``blosc`` typesize ...) as zarr-python 3 does.

    Parameters
    ----------
    shape
        The array shape.
    data_type
        The data type.
    chunk_grid
        The chunk grid.
    chunk_key_encoding
        The chunk key encoding (default: ``default`` with ``/``).
    fill_value
        The fill value.
    codecs
        The codecs, in encoding order.
    attributes
        The user attributes.
    dimension_names
        One name (or None) per axis, or None.
    storage_transformers
        Storage transformers (objects or JSON): known ones (see :mod:`zarrlayered.registry`) and unknown ones
        marked ``"must_understand": false``; kept as JSON.
    extra_fields
        Extension fields, each an object with ``"must_understand": false``; written back unchanged.
    """

    shape: tuple[int, ...]
    data_type: DataType
    chunk_grid: ChunkGrid
    chunk_key_encoding: ChunkKeyEncoding = field(default_factory=DefaultChunkKeyEncoding)
    fill_value: Any = None
    codecs: tuple[BaseCodec, ...] = field(default_factory=lambda: (BytesCodec(),))
    attributes: dict[str, Any] = field(default_factory=dict)
    dimension_names: tuple[str | None, ...] | None = None
    storage_transformers: tuple[dict[str, Any], ...] = ()
    extra_fields: dict[str, Any] = field(default_factory=dict)
    _chain: CodecChain = field(init=False, repr=False)

    zarr_format: ClassVar[Literal[3]] = 3

    def __post_init__(self) -> None:
        shape = parse_shape(self.shape, DOC)
        try:
            data_type = (
                self.data_type if isinstance(self.data_type, DataType) else parse_dtype(self.data_type, 3)
            ).with_native_layout()
        except MetadataValidationError as exc:
            raise _field_error("data_type", exc) from None
        try:
            data_type.to_json()
        except MetadataValidationError as exc:
            raise _field_error("data_type", exc) from None
        try:
            grid = parse_chunk_grid(self.chunk_grid)
        except MetadataValidationError as exc:
            raise _field_error("chunk_grid", exc) from None
        if grid.ndim != len(shape):
            raise MetadataValidationError(
                f"{DOC} field 'chunk_grid' has {grid.ndim} dimension(s) but 'shape' has {len(shape)}, "
                f"got {grid.to_dict()!r}"
            )
        try:
            grid.validate(shape)
        except MetadataValidationError as exc:
            raise _field_error("chunk_grid", exc) from None
        if isinstance(grid, RegularChunkGrid) and np.prod(grid.chunk_shape, dtype=object) >= MAX_ELEMENTS:
            raise MetadataValidationError(
                f"{DOC} field 'chunk_grid' chunk shape holds 2**63 or more elements, got {list(grid.chunk_shape)!r}"
            )
        if isinstance(grid, RegularChunkGrid):
            check_chunk_nbytes(grid.chunk_shape, data_type.numpy_dtype, DOC, "chunk_grid")
        elif isinstance(grid, RectilinearChunkGrid):
            largest = tuple(max(edges) for edges in grid.chunk_shapes)
            check_chunk_nbytes(largest, data_type.numpy_dtype, DOC, "chunk_grid")
        try:
            encoding = parse_chunk_key_encoding(self.chunk_key_encoding)
        except MetadataValidationError as exc:
            raise _field_error("chunk_key_encoding", exc) from None
        try:
            fill = (
                data_type.default_fill_value()
                if self.fill_value is None
                else data_type.cast_fill_value(self.fill_value)
            )
        except InvalidFillValueError as exc:
            raise MetadataValidationError(f"{DOC} field 'fill_value' {exc.reason}") from None
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "data_type", data_type)
        object.__setattr__(self, "chunk_grid", grid)
        object.__setattr__(self, "chunk_key_encoding", encoding)
        object.__setattr__(self, "fill_value", fill)
        object.__setattr__(self, "attributes", parse_attributes(self.attributes, DOC))
        object.__setattr__(self, "dimension_names", _parse_dimension_names(self.dimension_names, len(shape)))
        object.__setattr__(self, "storage_transformers", _parse_storage_transformers(self.storage_transformers))
        object.__setattr__(self, "extra_fields", parse_extra_fields(self.extra_fields, ARRAY_V3_KEYS))
        try:
            chain = CodecChain.from_codecs(parse_codecs_v3(self.codecs)).evolve(self.chunk_spec())
        except MetadataValidationError as exc:
            raise _field_error("codecs", exc) from None
        object.__setattr__(self, "codecs", chain.codecs())
        object.__setattr__(self, "_chain", chain)

    # ------------------------------------------------------------------------------------- properties
    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the array's elements."""
        return self.data_type.numpy_dtype

    @property
    def order(self) -> Literal["C"]:
        """Decoded chunks are C-ordered (a ``transpose`` codec sets the stored layout)."""
        return "C"

    @property
    def chunks(self) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
        """The regular chunk shape; for a rectilinear grid, the per-axis chunk lengths."""
        if isinstance(self.chunk_grid, RegularChunkGrid):
            return self.chunk_grid.chunk_shape
        return self.chunk_grid.chunk_sizes(self.shape)

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape (the grid's chunk shape) when the only codec is ``sharding_indexed``, else None."""
        sharded = len(self.codecs) == 1 and self.codecs[0].codec_name == "sharding_indexed"
        if sharded and isinstance(self.chunk_grid, RegularChunkGrid):
            return self.chunk_grid.chunk_shape
        return None

    @property
    def inner_chunks(self) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
        """The read/write unit as zarr-python 3 reports ``chunks``: a sharded array's inner chunk shape."""
        if self.shards is not None:
            inner = getattr(self.codecs[0], "chunk_shape", None)
            if isinstance(inner, tuple):
                return inner
        return self.chunks

    def codec_chain(self) -> CodecChain:
        """The fitted codec chain."""
        return self._chain

    def chunk_spec(self, coords: tuple[int, ...] | None = None) -> ChunkSpec:
        """The spec of the chunk at ``coords`` (for a regular grid every chunk has the grid's chunk shape)."""
        grid = self.chunk_grid
        if isinstance(grid, RegularChunkGrid):
            shape = grid.chunk_shape
        elif coords is not None:
            shape = grid.chunk_shape_at(coords, self.shape)
        else:
            shape = tuple(max(sizes, default=1) for sizes in grid.chunk_sizes(self.shape))
        return ChunkSpec(shape=shape, dtype=self.dtype, fill_value=self.fill_value, order="C")

    # ------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """The ``zarr.json`` document, keys in zarr-python 3's order."""
        out: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": self.data_type.to_json(),
            "chunk_grid": self.chunk_grid.to_dict(),
            "chunk_key_encoding": self.chunk_key_encoding.to_dict(),
            "fill_value": self.data_type.fill_value_to_json(self.fill_value),
            "codecs": [codec.to_dict() for codec in self.codecs],
            "attributes": self.attributes,
        }
        if self.dimension_names is not None:
            out["dimension_names"] = list(self.dimension_names)
        out["zarr_format"] = 3
        out["node_type"] = "array"
        out["storage_transformers"] = list(self.storage_transformers)
        out.update(self.extra_fields)
        return out

    def to_json_bytes(self) -> dict[str, bytes]:
        """``{"zarr.json": ...}``, byte for byte as zarr-python 3 writes it."""
        return {ZARR_JSON: dumps_json(self.to_dict())}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse a ``zarr.json`` array document strictly.

        Raises
        ------
        MetadataValidationError
            Naming the field and value: a missing or malformed field, an unknown data type, codec, chunk
            grid or chunk key encoding, or an extension field without ``"must_understand": false``.
        """
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"{DOC} must hold a JSON object, got {data!r}")
        fmt = data.get("zarr_format")
        if fmt != 3 or isinstance(fmt, bool):
            raise MetadataValidationError(f"{DOC} field 'zarr_format' must be 3, got {fmt!r}")
        if data.get("node_type") != "array":
            raise MetadataValidationError(f"{DOC} field 'node_type' must be 'array', got {data.get('node_type')!r}")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise MetadataValidationError(f"{DOC} is missing the required field(s) {missing}")
        try:
            data_type = parse_v3_data_type(_check_data_type_json(data["data_type"]))
        except MetadataValidationError as exc:
            raise _field_error("data_type", exc) from None
        try:
            fill = data_type.fill_value_from_json(data["fill_value"])
        except InvalidFillValueError as exc:
            raise MetadataValidationError(f"{DOC} field 'fill_value' {exc.reason}") from None
        for key in ("chunk_grid", "chunk_key_encoding"):
            if not isinstance(data[key], Mapping):
                raise MetadataValidationError(f"{DOC} field {key!r} must be an object, got {data[key]!r}")
        codecs = data["codecs"]
        if not isinstance(codecs, list):
            raise MetadataValidationError(f"{DOC} field 'codecs' must be a list, got {codecs!r}")
        attributes = data.get("attributes", {})
        if not isinstance(attributes, Mapping):
            raise MetadataValidationError(f"{DOC} field 'attributes' must be an object, got {attributes!r}")
        extra = {key: value for key, value in data.items() if key not in ARRAY_V3_KEYS}
        return cls(
            shape=data["shape"],
            data_type=data_type,
            chunk_grid=data["chunk_grid"],
            chunk_key_encoding=data["chunk_key_encoding"],
            fill_value=fill,
            codecs=codecs,  # type: ignore[arg-type]
            attributes=dict(attributes),
            dimension_names=data.get("dimension_names"),
            storage_transformers=data.get("storage_transformers", ()),
            extra_fields=extra,
        )


def _check_data_type_json(value: object) -> str | Mapping[str, Any]:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return value
    raise MetadataValidationError(f"must be a name or an object with 'name' and 'configuration', got {value!r}")

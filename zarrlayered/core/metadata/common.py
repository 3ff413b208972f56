"""What the array metadata of both formats share: the :class:`ArrayMetadata` ABC and the small parsers.

Every parser raises :class:`~zarrlayered.errors.MetadataValidationError` with a message naming the document,
the field and the offending value, e.g. ``zarr.json field 'shape' must be a list of non-negative integers,
got [-1]``.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Self

import numpy as np

from zarrlayered.errors import MetadataValidationError

if TYPE_CHECKING:
    from zarrlayered.codecs.abc import ChunkSpec
    from zarrlayered.codecs.chain import CodecChain
    from zarrlayered.core.chunk_grids import ChunkGrid
    from zarrlayered.core.chunk_key_encodings import ChunkKeyEncoding
    from zarrlayered.core.dtypes import DataType

__all__ = [
    "JSON_INDENT",
    "MAX_ELEMENTS",
    "MAX_JSON_DEPTH",
    "ZARRAY_JSON",
    "ZARR_JSON",
    "ZATTRS_JSON",
    "ZGROUP_JSON",
    "ZMETADATA_JSON",
    "ArrayMetadata",
    "check_chunk_nbytes",
    "dumps_json",
    "json_depth",
    "loads_json",
    "parse_attributes",
    "parse_chunk_shape",
    "parse_shape",
]

ZARR_JSON: Final = "zarr.json"
ZARRAY_JSON: Final = ".zarray"
ZGROUP_JSON: Final = ".zgroup"
ZATTRS_JSON: Final = ".zattrs"
ZMETADATA_JSON: Final = ".zmetadata"

#: zarr-python 3's default ``json_indent``.
JSON_INDENT: Final = 2

#: Arrays and chunks must hold fewer elements than this (the int64 index range).
MAX_ELEMENTS: Final = 2**63

#: Metadata documents (attributes included) may nest JSON arrays and objects at most this deep; deeper
#: documents are refused (a MetadataValidationError, never a RecursionError later on).
MAX_JSON_DEPTH: Final = 256


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and dicts (0 for a scalar), counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def dumps_json(document: Any, *, indent: int | None = JSON_INDENT) -> bytes:
    """Serialise a metadata document exactly as zarr-python 3 does (``indent=2``, NaN allowed, ASCII)."""
    return json.dumps(document, indent=indent, allow_nan=True).encode()


def loads_json(data: bytes | bytearray | memoryview | str | Mapping[str, Any], name: str) -> dict[str, Any]:
    """Parse a metadata document (bytes or an already parsed mapping); it must be a JSON object."""
    if isinstance(data, Mapping):
        return dict(data)
    try:
        parsed = json.loads(bytes(data) if not isinstance(data, str) else data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataValidationError(f"{name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise MetadataValidationError(f"{name} nests JSON deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(parsed, dict):
        raise MetadataValidationError(f"{name} must hold a JSON object, got {_short(parsed)}")
    if json_depth(parsed) > MAX_JSON_DEPTH:
        raise MetadataValidationError(f"{name} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    return parsed


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def parse_shape(value: object, doc: str, field: str = "shape") -> tuple[int, ...]:
    """A list of non-negative integers whose product stays below 2**63."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise MetadataValidationError(f"{doc} field {field!r} must be a list of non-negative integers, got {value!r}")
    items = list(value)
    if not all(_is_int(v) and v >= 0 for v in items):
        raise MetadataValidationError(f"{doc} field {field!r} must be a list of non-negative integers, got {value!r}")
    shape = tuple(int(v) for v in items)
    if math.prod(shape) >= MAX_ELEMENTS or any(s >= MAX_ELEMENTS for s in shape):
        raise MetadataValidationError(f"{doc} field {field!r} holds 2**63 or more elements, got {list(shape)!r}")
    return shape


def parse_chunk_shape(value: object, doc: str, field: str, ndim: int) -> tuple[int, ...]:
    """A list of ``ndim`` positive integers whose product stays below 2**63."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise MetadataValidationError(f"{doc} field {field!r} must be a list of positive integers, got {value!r}")
    items = list(value)
    if not all(_is_int(v) and v > 0 for v in items):
        raise MetadataValidationError(f"{doc} field {field!r} must be a list of positive integers, got {value!r}")
    chunks = tuple(int(v) for v in items)
    if len(chunks) != ndim:
        raise MetadataValidationError(
            f"{doc} field {field!r} has {len(chunks)} dimension(s) but 'shape' has {ndim}, got {list(chunks)!r}"
        )
    if math.prod(chunks) >= MAX_ELEMENTS:
        raise MetadataValidationError(f"{doc} field {field!r} holds 2**63 or more elements, got {list(chunks)!r}")
    return chunks


def check_chunk_nbytes(chunk_shape: Sequence[int], dtype: np.dtype[Any], doc: str, field: str) -> None:
    """Refuse a chunk whose decoded size passes :data:`~zarrlayered.codecs.limits.MAX_CHUNK_NBYTES`.

    Checked when metadata is parsed, so no read or write ever allocates such a chunk (or a decompression
    buffer of its size).
    """
    from zarrlayered.codecs.limits import MAX_CHUNK_NBYTES

    nbytes = math.prod(chunk_shape) * dtype.itemsize
    if nbytes > MAX_CHUNK_NBYTES:
        raise MetadataValidationError(
            f"{doc} field {field!r}: a chunk of shape {list(chunk_shape)!r} and data type {dtype} takes {nbytes} "
            f"bytes, more than the {MAX_CHUNK_NBYTES} bytes (1 TiB) a chunk may hold"
        )


def parse_attributes(value: object, doc: str) -> dict[str, Any]:
    """A JSON object (None reads as ``{}``); returned as a new dict."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise MetadataValidationError(f"{doc} attributes must be a JSON object with string keys, got {value!r}")
    return dict(value)


def parse_order(value: object, doc: str) -> Literal["C", "F"]:
    """``"C"`` or ``"F"``."""
    if value == "C":
        return "C"
    if value == "F":
        return "F"
    raise MetadataValidationError(f"{doc} field 'order' must be 'C' or 'F', got {value!r}")


def fill_values_equal(a: Any, b: Any) -> bool:
    """Whether two fill values are the same value (NaN equals NaN with the same bits)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.generic) and isinstance(b, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return type(a) is type(b) and bool(a == b)


class ArrayMetadata(ABC):
    """The metadata of one array, Zarr V2 or V3 (frozen dataclasses ``ArrayV2Metadata`` / ``ArrayV3Metadata``).

    Both formats offer: ``shape``, ``ndim``, ``dtype`` (numpy), ``data_type`` (:class:`DataType`),
    ``chunks``, ``chunk_grid``, ``chunk_key_encoding``, ``fill_value``, ``order``, ``attributes``,
    ``dimension_names``, ``zarr_format``, :meth:`codec_chain`, :meth:`chunk_spec`, :meth:`encode_chunk_key`,
    :meth:`update_shape`, :meth:`update_attributes`, :meth:`to_dict` and :meth:`to_json_bytes`.
    Two metadata objects are equal when they write the same documents.
    """

    node_type: ClassVar[Literal["array"]] = "array"

    if TYPE_CHECKING:
        shape: tuple[int, ...]
        attributes: dict[str, Any]
        fill_value: Any

        @property
        def zarr_format(self) -> Literal[2, 3]: ...

        @property
        def dtype(self) -> np.dtype[Any]: ...

        @property
        def data_type(self) -> DataType: ...

        @property
        def chunk_grid(self) -> ChunkGrid: ...

        @property
        def chunk_key_encoding(self) -> ChunkKeyEncoding: ...

        @property
        def order(self) -> Literal["C", "F"]: ...

        @property
        def dimension_names(self) -> tuple[str | None, ...] | None: ...

        @property
        def chunks(self) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
            """The regular chunk shape (for a rectilinear grid: the per-axis chunk lengths)."""

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self.shape)

    @abstractmethod
    def codec_chain(self) -> CodecChain:
        """The codec chain that encodes and decodes one stored chunk (fitted to the data type)."""

    @abstractmethod
    def chunk_spec(self, coords: tuple[int, ...] | None = None) -> ChunkSpec:
        """What the codec chain sees for the chunk at ``coords`` (any chunk when None)."""

    @property
    def chunk_fill_value(self) -> Any:
        """The value of elements never written: the fill value, or the data type's default when it is None."""
        return self.data_type.default_fill_value() if self.fill_value is None else self.fill_value

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        """The store key (relative to the array) of the chunk at grid coordinates ``coords``."""
        return self.chunk_key_encoding.encode_chunk_key(coords)

    def update_shape(self, shape: Sequence[int]) -> Self:
        """A copy with a new shape (same number of dimensions)."""
        if len(shape) != self.ndim:
            raise MetadataValidationError(
                f"the new shape {tuple(shape)!r} must have {self.ndim} dimension(s) like the old {self.shape!r}"
            )
        return replace(self, shape=tuple(shape))  # type: ignore[type-var]

    def update_attributes(self, attributes: Mapping[str, Any]) -> Self:
        """A copy with new attributes (they replace the old ones)."""
        return replace(self, attributes=dict(attributes))  # type: ignore[type-var]

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The main metadata document as a dict (``zarr.json``, or ``.zarray`` for V2)."""

    @abstractmethod
    def to_json_bytes(self) -> dict[str, bytes]:
        """The documents to store, keyed by file name, byte for byte as zarr-python 3 writes them."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ArrayMetadata)
        return self.to_json_bytes() == other.to_json_bytes()

    __hash__ = None  # type: ignore[assignment]

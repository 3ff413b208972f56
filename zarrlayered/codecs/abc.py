"""The codec base classes and :class:`ChunkSpec`, plus the small parsers every codec uses.

Codecs are frozen dataclasses; their ``encode``/``decode`` are plain synchronous CPU work, safe to call
from several threads at once. The engine decides whether to run them inline or in its thread pool.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, Self

import numpy as np

from zarrlayered.errors import CorruptChunkError, MetadataValidationError

__all__ = [
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BaseCodec",
    "BytesBytesCodec",
    "BytesLike",
    "ChunkSpec",
    "check_fields",
    "parse_bool_field",
    "parse_int_field",
    "parse_literal_field",
    "parse_named_configuration",
]

#: A chunk in its encoded form: anything exposing the buffer protocol as contiguous bytes.
BytesLike = bytes | memoryview


@dataclass(frozen=True)
class ChunkSpec:
    """One chunk as a codec sees it: the shape and dtype after the preceding array -> array codecs.

    Parameters
    ----------
    shape
        The chunk shape.
    dtype
        The numpy dtype of the chunk's elements.
    fill_value
        The array's fill value (a numpy scalar, ``str`` or ``bytes``).
    order
        The memory layout of the chunk. Zarr V3 codecs always serialize in C order (a ``transpose``
        codec changes the layout); the V2 pipeline (:class:`~zarrlayered.codecs.numcodecs_adapter.V2Codec`)
        serializes in this order, as the V2 ``order`` field says.
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fill_value: Any
    order: Literal["C", "F"] = "C"

    @property
    def ndim(self) -> int:
        """The number of dimensions of the chunk."""
        return len(self.shape)

    @cached_property
    def size(self) -> int:
        """The number of elements of the chunk (remembered: every chunk decode asks for it)."""
        return math.prod(self.shape)


class BaseCodec(ABC):
    """Base class of every codec; concrete codecs are frozen dataclasses.

    Subclasses set ``codec_name`` (the V3 name) and implement :meth:`to_dict` and :meth:`from_dict`.
    The defaults of the other methods suit a codec that keeps the chunk's shape and dtype and has no
    dtype-dependent defaults.
    """

    codec_name: ClassVar[str]

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form ``{"name": ..., "configuration": {...}}``, exactly as zarr-python 3 writes it."""

    @classmethod
    @abstractmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the codec from its V3 JSON form; MetadataValidationError names a bad field."""

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Return the codec with the defaults that depend on the chunk's dtype filled in."""
        return self

    def validate(self, spec: ChunkSpec) -> None:
        """Raise MetadataValidationError if the codec cannot apply to chunks described by ``spec``."""
        return None

    def resolve_metadata(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of a chunk after this codec has encoded it."""
        return spec

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """The encoded size of ``input_byte_length`` bytes, for fixed-size codecs; ValueError otherwise."""
        raise ValueError(f"codec {self.codec_name!r} has no fixed encoded size")


class ArrayArrayCodec(BaseCodec):
    """A codec from array to array (e.g. ``transpose``)."""

    @abstractmethod
    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Encode one chunk described by ``spec``."""

    @abstractmethod
    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode one chunk back to the shape and dtype of ``spec`` (the spec before encoding)."""


class ArrayBytesCodec(BaseCodec):
    """A codec from array to bytes (e.g. ``bytes``, ``vlen-utf8``); exactly one per codec chain."""

    @abstractmethod
    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Serialize one chunk described by ``spec``."""

    @abstractmethod
    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Deserialize one chunk; the result has shape ``spec.shape`` and dtype ``spec.dtype``.

        The result may be a read-only view of ``data``; copy it before writing into it.
        """


class BytesBytesCodec(BaseCodec):
    """A codec from bytes to bytes (compressors, checksums)."""

    @abstractmethod
    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Encode the serialized chunk."""

    @abstractmethod
    def decode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Decode the serialized chunk."""

    def decode_bounded(self, data: BytesLike, spec: ChunkSpec, max_nbytes: int | None) -> BytesLike:
        """:meth:`decode`, refusing output of more than ``max_nbytes`` bytes (None: no bound).

        Compressors override this to refuse *before* allocating (see :mod:`zarrlayered.codecs.limits`);
        this default checks the decoded size afterwards.

        Raises
        ------
        CorruptChunkError
            If the decoded data is larger than ``max_nbytes``.
        """
        out = self.decode(data, spec)
        if max_nbytes is not None:
            got = len(out) if isinstance(out, bytes) else memoryview(out).nbytes
            if got > max_nbytes:
                raise CorruptChunkError(
                    f"codec {self.codec_name!r}: the data decodes to {got} bytes, more than the {max_nbytes} "
                    "bytes the chunk can hold"
                )
        return out


def parse_named_configuration(
    data: object, expected_name: str | None = None, *, require_configuration: bool = True
) -> tuple[str, dict[str, Any]]:
    """Split a ``{"name": ..., "configuration": {...}}`` document into its name and configuration.

    A ``must_understand`` key (V3 extension objects) is accepted and ignored; any other key is an error.

    Parameters
    ----------
    data
        The JSON document.
    expected_name
        The name the document must carry, or None to accept any string.
    require_configuration
        Whether a missing ``configuration`` is an error (else it reads as ``{}``).

    Raises
    ------
    MetadataValidationError
        Naming the bad field and its value.
    """
    if not isinstance(data, Mapping):
        raise MetadataValidationError(f"codec metadata must be a JSON object, got {data!r}")
    name = data.get("name")
    if not isinstance(name, str):
        raise MetadataValidationError(f"codec field 'name' must be a string, got {name!r}")
    if expected_name is not None and name != expected_name:
        raise MetadataValidationError(f"codec field 'name' must be {expected_name!r}, got {name!r}")
    extra = set(data) - {"name", "configuration", "must_understand"}
    if extra:
        raise MetadataValidationError(f"codec {name!r} has unexpected fields {sorted(extra)}")
    if "configuration" not in data:
        if require_configuration:
            raise MetadataValidationError(f"codec {name!r} requires the field 'configuration'")
        return name, {}
    configuration = data["configuration"]
    if not isinstance(configuration, Mapping):
        raise MetadataValidationError(
            f"codec {name!r} field 'configuration' must be a JSON object, got {configuration!r}"
        )
    return name, dict(configuration)


def check_fields(codec: str, configuration: Mapping[str, Any], allowed: set[str]) -> None:
    """Raise MetadataValidationError naming any key of ``configuration`` outside ``allowed``."""
    extra = set(configuration) - allowed
    if extra:
        raise MetadataValidationError(f"codec {codec!r} has unexpected configuration fields {sorted(extra)}")


def parse_int_field(
    codec: str, field: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` if it is an integer (not a bool) within the bounds, else raise naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise MetadataValidationError(f"codec {codec!r} field {field!r} must be an integer, got {value!r}")
    result = int(value)
    if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
        bounds = (
            f"between {minimum} and {maximum}"
            if minimum is not None and maximum is not None
            else (f">= {minimum}" if minimum is not None else f"<= {maximum}")
        )
        raise MetadataValidationError(f"codec {codec!r} field {field!r} must be {bounds}, got {value!r}")
    return result


def parse_bool_field(codec: str, field: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise MetadataValidationError naming the field."""
    if not isinstance(value, bool | np.bool_):
        raise MetadataValidationError(f"codec {codec!r} field {field!r} must be a boolean, got {value!r}")
    return bool(value)


def parse_literal_field(codec: str, field: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise MetadataValidationError naming the field."""
    if not isinstance(value, str) or value not in allowed:
        raise MetadataValidationError(f"codec {codec!r} field {field!r} must be one of {allowed}, got {value!r}")
    return value

"""The V3 ``transpose`` codec: permutes the axes of a chunk (as views, no copies)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np

from zarrlayered.codecs.abc import ArrayArrayCodec, ChunkSpec, check_fields, parse_named_configuration
from zarrlayered.errors import MetadataValidationError

__all__ = ["TransposeCodec", "parse_transpose_order"]


def parse_transpose_order(value: object) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ints, or raise MetadataValidationError naming the field ``order``."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise MetadataValidationError(f"codec 'transpose' field 'order' must be a list of integers, got {value!r}")
    items = tuple(value)
    if not all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in items):
        raise MetadataValidationError(f"codec 'transpose' field 'order' must be a list of integers, got {value!r}")
    return tuple(int(i) for i in items)


@dataclass(frozen=True)
class TransposeCodec(ArrayArrayCodec):
    """Permute the axes of a chunk: the encoded chunk is ``np.transpose(chunk, order)``.

    Parameters
    ----------
    order
        A permutation of ``range(ndim)``.
    """

    order: tuple[int, ...]

    codec_name: ClassVar[str] = "transpose"

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", parse_transpose_order(self.order))

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "transpose", "configuration": {"order": list(self.order)}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, "transpose")
        check_fields("transpose", configuration, {"order"})
        if "order" not in configuration:
            raise MetadataValidationError("codec 'transpose' requires the configuration field 'order'")
        return cls(order=parse_transpose_order(configuration["order"]))

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Check the order against the chunk's dimensions (nothing depends on the dtype)."""
        self.validate(spec)
        return self

    def validate(self, spec: ChunkSpec) -> None:
        """The order must be a permutation of the chunk's axes."""
        if sorted(self.order) != list(range(spec.ndim)):
            raise MetadataValidationError(
                f"codec 'transpose' field 'order' must be a permutation of range({spec.ndim}) "
                f"for a {spec.ndim}-dimensional chunk, got {list(self.order)}"
            )

    @cached_property
    def _inverse(self) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argsort(self.order))

    def resolve_metadata(self, spec: ChunkSpec) -> ChunkSpec:
        """The chunk's shape permuted by the order."""
        shape = spec.shape
        return ChunkSpec(tuple([shape[i] for i in self.order]), spec.dtype, spec.fill_value, spec.order)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A transposed view of the chunk."""
        return np.transpose(chunk, self.order)

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A view of the chunk with the inverse permutation."""
        return np.transpose(chunk, self._inverse)

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """The same number of bytes."""
        return input_byte_length

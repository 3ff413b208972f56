"""Any numcodecs codec as a V3 codec named ``numcodecs.<id>``, as zarr-python 3.1 (zarr.codecs.numcodecs) writes it.

The JSON form is ``{"name": "numcodecs.<id>", "configuration": {<the numcodecs config without "id">}}``.
Whether a codec is array -> array, array -> bytes or bytes -> bytes follows zarr-python 3.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any, ClassVar, Final, Self

import numcodecs.abc
import numcodecs.registry
import numpy as np

from zarrlayered.codecs.abc import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BaseCodec,
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import check_vlen_items
from zarrlayered.codecs.numcodecs_adapter import check_codec_allowed, codec_config, numcodec_decode, parse_v2_codec
from zarrlayered.errors import CorruptChunkError, MetadataValidationError

__all__ = [
    "NumcodecsArrayArrayCodec",
    "NumcodecsArrayBytesCodec",
    "NumcodecsBytesBytesCodec",
    "NumcodecsCodec",
    "numcodecs_codec_class",
    "wrap_numcodecs_codec",
]

PREFIX: Final = "numcodecs."
_ARRAY_ARRAY_IDS: Final = frozenset({"delta", "bitround", "fixedscaleoffset", "quantize", "packbits", "astype"})
_ARRAY_BYTES_IDS: Final = frozenset(
    {"pcodec", "zfpy", "vlen-utf8", "vlen-bytes", "vlen-array", "json2", "msgpack2", "pickle", "categorize"}
)
#: Config keys filled from the array's dtype when missing, as zarr-python 3 does.
_DTYPE_DEFAULTS: Final = {"fixedscaleoffset": "dtype", "quantize": "dtype", "astype": "decode_dtype"}


@dataclass(frozen=True)
class NumcodecsCodec(BaseCodec):
    """Base of the ``numcodecs.<id>`` codecs; each id has its own subclass (see :func:`numcodecs_codec_class`).

    Parameters
    ----------
    configuration
        The numcodecs config without ``"id"``.
    """

    configuration: Mapping[str, Any] = field(default_factory=dict)

    codec_name: ClassVar[str] = "numcodecs"

    def __post_init__(self) -> None:
        if type(self).codec_name == NumcodecsCodec.codec_name:
            raise TypeError("use numcodecs_codec_class(id) to get the class of a numcodecs codec")
        configuration = dict(self.configuration)
        given_id = configuration.pop("id", self.codec_id)
        if given_id != self.codec_id:
            raise MetadataValidationError(
                f"codec {self.codec_name!r} field 'id' must be {self.codec_id!r}, got {given_id!r}"
            )
        check_codec_allowed(self.codec_id)
        object.__setattr__(self, "configuration", configuration)

    def __hash__(self) -> int:
        return hash((self.codec_name, json.dumps(self.configuration, sort_keys=True, default=str)))

    @property
    def codec_id(self) -> str:
        """The numcodecs id."""
        return self.codec_name.removeprefix(PREFIX)

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": self.codec_name, "configuration": dict(self.configuration)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, cls.codec_name, require_configuration=False)
        return cls(configuration=configuration)

    @cached_property
    def numcodec(self) -> numcodecs.abc.Codec:
        """The numcodecs codec doing the work."""
        codec = parse_v2_codec({"id": self.codec_id, **self.configuration})
        assert codec is not None
        return codec

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Fill the dtype-dependent config keys zarr-python 3 fills (shuffle elementsize, dtype, decode_dtype)."""
        key = "elementsize" if self.codec_id == "shuffle" else _DTYPE_DEFAULTS.get(self.codec_id)
        if key is None or self.configuration.get(key) is not None:
            return self
        if key == "elementsize":  # variable-length items are serialized as bytes
            value: Any = 1 if spec.dtype.kind in "OT" else spec.dtype.itemsize
        else:
            value = str(spec.dtype)
        return replace(self, configuration={**self.configuration, key: value})

    def validate(self, spec: ChunkSpec) -> None:
        """The configuration must build a numcodecs codec."""
        _ = self.numcodec

    def resolve_metadata(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec after encoding (changed by ``astype``, ``packbits`` and an ``astype`` config key)."""
        config = self.configuration
        if self.codec_id == "packbits":
            return replace(spec, shape=(1 + math.ceil(spec.size / 8),), dtype=np.dtype(np.uint8))
        if self.codec_id == "astype":
            return replace(spec, dtype=np.dtype(config["encode_dtype"]))
        if self.codec_id in ("delta", "fixedscaleoffset") and config.get("astype"):
            return replace(spec, dtype=np.dtype(config["astype"]))
        return spec

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """Checksum codecs add four bytes; other numcodecs codecs have no fixed size."""
        if self.codec_id in ("crc32", "crc32c", "adler32", "fletcher32", "jenkins_lookup3"):
            return input_byte_length + 4
        return super().compute_encoded_size(input_byte_length, spec)


def _to_buffer(value: Any) -> BytesLike:
    if isinstance(value, bytes | memoryview):
        return value
    array = np.ascontiguousarray(value)
    return array.reshape(-1).view(np.uint8).data


class NumcodecsBytesBytesCodec(NumcodecsCodec, BytesBytesCodec):
    """A numcodecs compressor or checksum as a bytes -> bytes codec."""

    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Encode with numcodecs."""
        return _to_buffer(self.numcodec.encode(data))

    def decode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Decode with numcodecs."""
        return _to_buffer(numcodec_decode(self.numcodec, data))

    def decode_bounded(self, data: BytesLike, spec: ChunkSpec, max_nbytes: int | None) -> BytesLike:
        """Decode with numcodecs, refusing (before allocating it where the format allows) a larger output."""
        out = _to_buffer(numcodec_decode(self.numcodec, data, max_nbytes))
        if max_nbytes is not None and memoryview(out).nbytes > max_nbytes:
            raise CorruptChunkError(
                f"codec {self.codec_name!r}: the data decodes to {memoryview(out).nbytes} bytes, more than the "
                f"{max_nbytes} bytes the chunk can hold"
            )
        return out


class NumcodecsArrayArrayCodec(NumcodecsCodec, ArrayArrayCodec):
    """A numcodecs filter (delta, fixedscaleoffset, ...) as an array -> array codec."""

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Encode a C-ordered chunk and shape the result like the resolved spec."""
        out = np.asarray(self.numcodec.encode(np.ascontiguousarray(chunk)))
        resolved = self.resolve_metadata(spec)
        if out.shape != resolved.shape and out.size == resolved.size:
            out = out.reshape(resolved.shape)
        return out

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode and shape the result like ``spec``."""
        out = np.asarray(numcodec_decode(self.numcodec, np.ascontiguousarray(chunk))).reshape(spec.shape)
        return out if out.dtype == spec.dtype else out.astype(spec.dtype)


class NumcodecsArrayBytesCodec(NumcodecsCodec, ArrayBytesCodec):
    """A numcodecs array serializer (pcodec, zfpy, ...) as an array -> bytes codec."""

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Encode a C-ordered chunk."""
        return _to_buffer(self.numcodec.encode(np.ascontiguousarray(chunk)))

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode and shape the result like ``spec``."""
        if self.codec_id in ("vlen-utf8", "vlen-bytes", "vlen-array"):
            check_vlen_items(self.codec_name, data, spec.size)
        out = np.asarray(numcodec_decode(self.numcodec, data if isinstance(data, bytes) else bytes(data)))
        out = out.reshape(spec.shape)
        return out if out.dtype == spec.dtype else out.astype(spec.dtype)


_classes: dict[str, type[NumcodecsCodec]] = {}
_classes_lock = threading.Lock()


def _known_numcodecs_ids() -> set[str]:
    return set(numcodecs.registry.codec_registry) | {ep.name for ep in entry_points(group="numcodecs.codecs")}


def numcodecs_codec_class(codec_id: str) -> type[NumcodecsCodec]:
    """The V3 codec class named ``numcodecs.<codec_id>`` (created once per id).

    Raises
    ------
    MetadataValidationError
        If numcodecs knows no codec ``codec_id``.
    """
    with _classes_lock:
        cls = _classes.get(codec_id)
        if cls is None:
            if codec_id not in _known_numcodecs_ids():
                raise MetadataValidationError(
                    f"unknown codec {PREFIX + codec_id!r}: numcodecs has no codec {codec_id!r}"
                )
            base: type[NumcodecsCodec]
            if codec_id in _ARRAY_ARRAY_IDS:
                base = NumcodecsArrayArrayCodec
            elif codec_id in _ARRAY_BYTES_IDS:
                base = NumcodecsArrayBytesCodec
            else:
                base = NumcodecsBytesBytesCodec
            name = "Numcodecs" + "".join(part.capitalize() for part in codec_id.replace("-", "_").split("_"))
            namespace = {"codec_name": PREFIX + codec_id, "__module__": __name__, "__doc__": base.__doc__}
            cls = type(name, (base,), namespace)
            _classes[codec_id] = cls
        return cls


def wrap_numcodecs_codec(codec: numcodecs.abc.Codec) -> BaseCodec:
    """The ``numcodecs.<id>`` V3 codec for a numcodecs codec object (the object itself does the work)."""
    checked = parse_v2_codec(codec)
    assert checked is not None
    configuration = codec_config(checked)
    codec_id = configuration.pop("id", None)
    if not isinstance(codec_id, str):
        raise MetadataValidationError(f"numcodecs codec {codec!r} has no string 'id' in its config")
    wrapped = numcodecs_codec_class(codec_id)(configuration=configuration)
    wrapped.__dict__["numcodec"] = checked  # the cached_property slot: reuse the very object
    return wrapped

"""zl_demo_plugin: a tiny zarrlayered plug-in, used as test data.

It provides, through entry points only:

- ``zl_demo.xor`` (group ``zarrlayered.codecs``): a bytes -> bytes codec XOR-ing every byte with ``key``;
- ``zldemo`` (group ``zarrlayered.stores``): ``zldemo://<name>`` opens a MemoryStore-based store; stores
  of one name share their data within the process;
- ``zl_demo.prefix`` (group ``zarrlayered.storage_transformers``): puts chunk keys under ``<prefix>/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from zarrlayered.codecs.abc import check_fields, parse_int_field, parse_named_configuration
from zarrlayered.registry import BytesBytesCodec, ChunkSpec, StorageTransformer
from zarrlayered.stores.memory import MemoryStore

__all__ = ["DemoStore", "PrefixTransformer", "XorCodec", "open_demo_store"]


@dataclass(frozen=True)
class XorCodec(BytesBytesCodec):
    """XOR every byte with ``key`` (its own inverse)."""

    key: int = 0

    codec_name: ClassVar[str] = "zl_demo.xor"

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", parse_int_field(self.codec_name, "key", self.key, minimum=0, maximum=255))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.codec_name, "configuration": {"key": self.key}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        _, configuration = parse_named_configuration(data, cls.codec_name, require_configuration=False)
        check_fields(cls.codec_name, configuration, {"key"})
        return cls(**configuration)

    def _xor(self, data: bytes | memoryview) -> bytes:
        return (np.frombuffer(data, dtype=np.uint8) ^ np.uint8(self.key)).tobytes()

    def encode(self, data: bytes | memoryview, spec: ChunkSpec) -> bytes:
        return self._xor(data)

    def decode(self, data: bytes | memoryview, spec: ChunkSpec) -> bytes:
        return self._xor(data)

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        return input_byte_length


#: The data of every zldemo:// store opened in this process, by name.
STORES: dict[str, dict[str, bytes]] = {}


class DemoStore(MemoryStore):
    """A MemoryStore named by its ``zldemo://<name>`` URL."""

    def __init__(self, name: str, *, read_only: bool = False) -> None:
        super().__init__(STORES.setdefault(name, {}), read_only=read_only)
        self.name = name


def open_demo_store(url: str, mode: str | None, storage_options: Mapping[str, Any] | None) -> DemoStore:
    """The store factory of the ``zldemo`` scheme."""
    scheme, _, name = url.partition("://")
    if scheme.lower() != "zldemo" or not name:
        raise ValueError(f"not a zldemo:// URL: {url!r}")
    if storage_options:
        raise TypeError(f"zldemo:// stores take no storage options, got {dict(storage_options)!r}")
    return DemoStore(name, read_only=mode == "r")


@dataclass(frozen=True)
class PrefixTransformer(StorageTransformer):
    """Store every chunk key ``k`` of an array as ``<prefix>/k``."""

    prefix: str = "t"

    transformer_name: ClassVar[str] = "zl_demo.prefix"

    def encode_key(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    def decode_key(self, key: str) -> str | None:
        head, _, rest = key.partition("/")
        return rest if head == self.prefix and rest else None

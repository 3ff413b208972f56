"""Extension registries: a real plug-in distribution found through its entry points, runtime registration
of every kind of extension, storage transformers, and clear errors for unknown names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pytest

import zarrlayered as zl
import zarrlayered.codecs.registry as codec_registry
import zarrlayered.core.chunk_grids as chunk_grids
import zarrlayered.core.chunk_key_encodings as chunk_key_encodings
import zarrlayered.core.dtypes.registry as dtype_registry
import zarrlayered.core.storage_transformers as transformer_registry
import zarrlayered.registry as registry
import zarrlayered.stores.registry as store_registry
from zarrlayered.codecs.abc import parse_named_configuration
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.dtypes.base import DataTypeMismatch
from zarrlayered.core.dtypes.numeric import UInt8
from zarrlayered.core.metadata.v3 import ArrayV3Metadata
from zarrlayered.core.sync import sync
from zarrlayered.errors import MetadataValidationError
from zarrlayered.registry import (
    BytesBytesCodec,
    ChunkKeyEncoding,
    ChunkSpec,
    StorageTransformer,
    TransformedStore,
    apply_storage_transformers,
    get_storage_transformer_class,
    parse_storage_transformers,
    register_chunk_grid,
    register_chunk_key_encoding,
    register_codec,
    register_data_type,
    register_storage_transformer,
    register_store,
)
from zarrlayered.stores.abc import RangeByteRequest, Store, SuffixByteRequest
from zarrlayered.stores.memory import MemoryStore
from zarrlayered.testing import StoreTests

PLUGIN_SOURCES = Path(__file__).parent / "plugin_dist"


# ---------------------------------------------------------------------------------------------------
# a real plug-in distribution, found through its entry points by a fresh interpreter

PLUGIN_SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    import numpy as np

    import zarrlayered as zl
    from zarrlayered.core.metadata.v3 import ArrayV3Metadata
    from zarrlayered.registry import get_codec_class, get_store_factory, parse_storage_transformers
    from zarrlayered.stores.memory import MemoryStore

    out = {"imported_at_start": "zl_demo_plugin" in sys.modules}

    # a codec by name, from the plug-in's "zarrlayered.codecs" entry point
    store = MemoryStore()
    arr = zl.create_array(
        store, name="x", shape=(4, 4), chunks=(2, 4), dtype="<u2",
        compressors=[{"name": "zl_demo.xor", "configuration": {"key": 7}}],
    )
    arr[:] = np.arange(16, dtype="<u2").reshape(4, 4)
    out["codecs"] = json.loads(store.store_dict["x/zarr.json"])["codecs"]
    out["chunks"] = {key: value.hex() for key, value in store.store_dict.items() if "/c/" in key}
    out["read_back"] = zl.open_array(store, path="x", mode="r")[:].tolist()
    out["codec_module"] = get_codec_class("zl_demo.xor").__module__

    # a store by URL scheme, from the plug-in's "zarrlayered.stores" entry point
    out["factory_before"] = None if get_store_factory("nosuchscheme") is None else "found"
    written = zl.create_array(store="zldemo://x", shape=(5,), chunks=(2,), dtype="int32")
    written[:] = [1, 2, 3, 4, 5]
    out["store_type"] = type(written.store).__name__
    reopened = zl.open_array("zldemo://x", mode="r")
    out["store_read_only"] = reopened.store.read_only
    out["store_read_back"] = reopened[:].tolist()
    out["store_keys"] = sorted(sys.modules["zl_demo_plugin"].STORES["x"])

    # a storage transformer named in metadata, from the "zarrlayered.storage_transformers" entry point
    meta = ArrayV3Metadata.from_dict({
        "zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": [{"name": "bytes"}],
        "storage_transformers": [{"name": "zl_demo.prefix", "configuration": {"prefix": "p"}}],
    })
    (transformer,) = parse_storage_transformers(meta.storage_transformers)
    out["transformer"] = [type(transformer).__module__, transformer.to_dict()]
    raw = MemoryStore()
    arr = zl.create_array(transformer.wrap(raw, "t"), name="t", shape=(4,), chunks=(2,), dtype="uint8")
    arr[:] = [1, 2, 3, 4]
    out["transformed_keys"] = sorted(raw.store_dict)
    print(json.dumps(out))
    """
)


def install_plugin(target: Path) -> None:
    """Lay out the plug-in as an installed distribution: its package and a hand-written dist-info."""
    shutil.copytree(PLUGIN_SOURCES / "zl_demo_plugin", target / "zl_demo_plugin")
    dist_info = target / "zl_demo_plugin-0.1.dist-info"
    dist_info.mkdir()
    for name in ("METADATA", "entry_points.txt"):
        shutil.copy(PLUGIN_SOURCES / name, dist_info / name)


def test_plugin_distribution_is_found_through_entry_points(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-c", PLUGIN_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])

    assert out["imported_at_start"] is False  # zarrlayered imported it, the script never did
    assert out["codec_module"] == "zl_demo_plugin"
    assert out["codecs"] == [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "zl_demo.xor", "configuration": {"key": 7}},
    ]
    data = np.arange(16, dtype="<u2").reshape(4, 4)
    expected = {
        f"x/c/{row}/0": (np.frombuffer(data[2 * row : 2 * row + 2].tobytes(), np.uint8) ^ 7).tobytes().hex()
        for row in range(2)
    }
    assert out["chunks"] == expected
    assert out["chunks"]["x/c/0/0"] != data[:2].tobytes().hex()  # the bytes really went through the codec
    assert out["read_back"] == data.tolist()

    assert out["factory_before"] is None
    assert out["store_type"] == "DemoStore"
    assert out["store_read_only"] is True  # the factory got mode "r"
    assert out["store_read_back"] == [1, 2, 3, 4, 5]
    assert out["store_keys"] == ["c/0", "c/1", "c/2", "zarr.json"]

    assert out["transformer"] == ["zl_demo_plugin", {"name": "zl_demo.prefix", "configuration": {"prefix": "p"}}]
    assert out["transformed_keys"] == ["t/p/c/0", "t/p/c/1", "t/zarr.json", "zarr.json"]


def test_plugin_is_invisible_without_its_distribution() -> None:
    # in this interpreter the plug-in is not installed: its names are unknown, with errors naming them
    with pytest.raises(MetadataValidationError, match=r"unknown codec 'zl_demo\.xor'"):
        registry.get_codec_class("zl_demo.xor")
    with pytest.raises(MetadataValidationError, match=r"unknown storage transformer 'zl_demo\.prefix'"):
        get_storage_transformer_class("zl_demo.prefix")
    assert registry.get_store_factory("zldemo") is None


# ---------------------------------------------------------------------------------------------------
# runtime registration


@contextmanager
def registrations() -> Iterator[None]:
    """Undo every runtime registration made inside the block, in every registry."""
    with ExitStack() as stack:
        for extension_registry in (
            codec_registry.CODEC_REGISTRY,
            dtype_registry.DATA_TYPE_REGISTRY,
            chunk_grids.CHUNK_GRID_REGISTRY,
            chunk_key_encodings.CHUNK_KEY_ENCODING_REGISTRY,
            store_registry.STORE_REGISTRY,
            transformer_registry.STORAGE_TRANSFORMER_REGISTRY,
        ):
            stack.enter_context(extension_registry.restoring())
        yield


@dataclass(frozen=True)
class ReverseCodec(BytesBytesCodec):
    """Reverses the bytes of a chunk."""

    codec_name: ClassVar[str] = "zl_test.reverse"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.codec_name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        parse_named_configuration(data, cls.codec_name, require_configuration=False)
        return cls()

    def encode(self, data: bytes | memoryview, spec: ChunkSpec) -> bytes:
        return bytes(data)[::-1]

    def decode(self, data: bytes | memoryview, spec: ChunkSpec) -> bytes:
        return bytes(data)[::-1]


def test_register_codec_at_runtime() -> None:
    store = MemoryStore()
    with registrations():
        register_codec("zl_test.reverse", ReverseCodec)
        arr = zl.create_array(store, name="a", shape=(6,), chunks=(3,), dtype="<i2", compressors=["zl_test.reverse"])
        arr[:] = np.arange(6)
        assert store.store_dict["a/c/0"] == np.arange(3, dtype="<i2").tobytes()[::-1]
        assert zl.open_array(store, path="a")[:].tolist() == list(range(6))
    with pytest.raises(MetadataValidationError, match=r"unknown codec 'zl_test\.reverse'"):
        zl.open_array(store, path="a")


def test_register_store_at_runtime() -> None:
    calls: list[tuple[str, str | None, Mapping[str, Any] | None]] = []
    backing: dict[str, bytes] = {}

    def factory(url: str, mode: str | None, storage_options: Mapping[str, Any] | None) -> Store:
        calls.append((url, mode, storage_options))
        return MemoryStore(backing, read_only=mode == "r")

    with registrations():
        register_store("zltest", factory)
        arr = zl.create_array(store="zltest://anything", shape=(3,), chunks=(3,), dtype="uint8")
        arr[:] = [7, 8, 9]
        assert zl.open_array("ZLTEST://anything", mode="r")[:].tolist() == [7, 8, 9]
    assert sorted(backing) == ["c/0", "zarr.json"]
    assert [url for url, _, _ in calls] == ["zltest://anything", "ZLTEST://anything"]
    assert calls[-1][1] == "r"
    assert store_registry.get_store_factory("zltest") is None


@dataclass(frozen=True)
class Octet(UInt8):
    """An unsigned byte under another name; never chosen for a numpy dtype."""

    name: ClassVar[str] = "zl_test.octet"

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        raise DataTypeMismatch


def test_register_data_type_at_runtime() -> None:
    store = MemoryStore()
    with registrations():
        register_data_type("zl_test.octet", Octet)
        arr = zl.create_array(store, name="a", shape=(4,), chunks=(2,), dtype=Octet(), fill_value=3)
        arr[:2] = [250, 251]
        assert json.loads(store.store_dict["a/zarr.json"])["data_type"] == "zl_test.octet"
        reopened = zl.open_array(store, path="a")
        assert isinstance(reopened.metadata.data_type, Octet)
        assert reopened[:].tolist() == [250, 251, 3, 3]
        assert zl.create_array(MemoryStore(), shape=(1,), dtype="u1").metadata.data_type.name == "uint8"
    with pytest.raises(MetadataValidationError, match=r"unknown data type 'zl_test\.octet'"):
        zl.open_array(store, path="a")


@dataclass(frozen=True)
class TiledGrid(RegularChunkGrid):
    """A regular grid written as ``{"name": "zl_test.tiled", "configuration": {"tile": [...]}}``."""

    grid_name: ClassVar[str] = "zl_test.tiled"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.grid_name, "configuration": {"tile": list(self.chunk_shape)}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        _, configuration = parse_named_configuration(data, cls.grid_name)
        return cls(chunk_shape=tuple(configuration["tile"]))


def v3_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [4, 4],
        "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes"}],
        "attributes": {},
    }
    document.update(changes)
    return document


def test_register_chunk_grid_at_runtime() -> None:
    document = v3_document(chunk_grid={"name": "zl_test.tiled", "configuration": {"tile": [4, 2]}})
    store = MemoryStore({"a/zarr.json": json.dumps(document).encode(), "a/c/0/1": bytes(range(8))})
    with registrations():
        register_chunk_grid("zl_test.tiled", TiledGrid)
        arr = zl.open_array(store, path="a", mode="r")
        assert isinstance(arr.metadata.chunk_grid, TiledGrid)
        assert arr.metadata.to_dict()["chunk_grid"] == document["chunk_grid"]
        assert arr[:, 2:].ravel().tolist() == list(range(8))
        assert arr[:, :2].ravel().tolist() == [0] * 8
    with pytest.raises(MetadataValidationError, match=r"unknown chunk grid 'zl_test\.tiled'"):
        zl.open_array(store, path="a", mode="r")


@dataclass(frozen=True)
class FlatKeys(ChunkKeyEncoding):
    """Chunk keys ``k<i>_<j>`` (the separator is fixed)."""

    name: ClassVar[str] = "zl_test.flat"

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        return "k" + "_".join(map(str, coords))

    def decode_chunk_key(self, key: str, ndim: int | None = None) -> tuple[int, ...]:
        if not key.startswith("k"):
            raise ValueError(f"{key!r} is not a flat chunk key")
        return tuple(int(part) for part in key[1:].split("_"))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name}


def test_register_chunk_key_encoding_at_runtime() -> None:
    store = MemoryStore()
    with registrations():
        register_chunk_key_encoding("zl_test.flat", FlatKeys)
        arr = zl.create_array(
            store,
            name="a",
            shape=(4, 4),
            chunks=(2, 2),
            dtype="uint8",
            compressors=None,
            chunk_key_encoding={"name": "zl_test.flat"},
        )
        arr[:] = np.arange(16).reshape(4, 4)
        assert sorted(store.store_dict) == ["a/k0_0", "a/k0_1", "a/k1_0", "a/k1_1", "a/zarr.json", "zarr.json"]
        assert store.store_dict["a/k1_0"] == bytes([8, 9, 12, 13])
        assert zl.open_array(store, path="a")[:].ravel().tolist() == list(range(16))
    with pytest.raises(MetadataValidationError, match=r"unknown chunk_key_encoding 'zl_test\.flat'"):
        zl.open_array(store, path="a")


@dataclass(frozen=True)
class ShiftKeysAndBytes(StorageTransformer):
    """Stores chunk ``k`` as ``<tag>/k`` with each byte plus ``shift`` (mod 256)."""

    tag: str = "x"
    shift: int = 1

    transformer_name: ClassVar[str] = "zl_test.shift"

    def __post_init__(self) -> None:
        if not isinstance(self.shift, int) or isinstance(self.shift, bool):
            raise MetadataValidationError(
                f"storage transformer 'zl_test.shift' field 'shift' must be an int, got {self.shift!r}"
            )

    def encode_key(self, key: str) -> str:
        return f"{self.tag}/{key}"

    def decode_key(self, key: str) -> str | None:
        head, _, rest = key.partition("/")
        return rest if head == self.tag and rest else None

    def encode_value(self, key: str, value: bytes) -> bytes:
        return ((np.frombuffer(value, np.uint8) + np.uint8(self.shift % 256)) & 0xFF).astype(np.uint8).tobytes()

    def decode_value(self, key: str, value: bytes) -> bytes:
        return ((np.frombuffer(value, np.uint8) - np.uint8(self.shift % 256)) & 0xFF).astype(np.uint8).tobytes()


def test_register_storage_transformer_at_runtime() -> None:
    document = v3_document(storage_transformers=[{"name": "zl_test.shift", "configuration": {"shift": 3}}])
    with registrations():
        register_storage_transformer("zl_test.shift", ShiftKeysAndBytes)
        assert get_storage_transformer_class("zl_test.shift") is ShiftKeysAndBytes
        meta = ArrayV3Metadata.from_dict(document)
        assert meta.to_dict()["storage_transformers"] == document["storage_transformers"]
        (transformer,) = parse_storage_transformers(meta.storage_transformers)
        assert transformer == ShiftKeysAndBytes(shift=3)
        assert transformer.to_dict() == {"name": "zl_test.shift", "configuration": {"tag": "x", "shift": 3}}
        assert ShiftKeysAndBytes.from_dict(transformer.to_dict()) == transformer

        # the engine writes and reads through the wrapped store: chunk keys and bytes change, metadata does not
        raw = MemoryStore()
        arr = zl.create_array(
            transformer.wrap(raw, "g/a"), name="g/a", shape=(4,), chunks=(2,), dtype="uint8", compressors=None
        )
        arr[:] = [1, 2, 254, 255]
        assert sorted(raw.store_dict) == ["g/a/x/c/0", "g/a/x/c/1", "g/a/zarr.json", "g/zarr.json", "zarr.json"]
        assert raw.store_dict["g/a/x/c/1"] == bytes([1, 2])
        assert json.loads(raw.store_dict["g/a/zarr.json"])["shape"] == [4]
        assert zl.open_array(transformer.wrap(raw, "g/a"), path="g/a")[:].tolist() == [1, 2, 254, 255]
        assert zl.open_array(raw, path="g/a")[:].tolist() == [0, 0, 0, 0]  # without the transformer: no chunks

        with pytest.raises(MetadataValidationError, match=r"'zl_test\.shift' is invalid: .*'shift' must be an int"):
            parse_storage_transformers([{"name": "zl_test.shift", "configuration": {"shift": "3"}}])
        with pytest.raises(MetadataValidationError, match=r"unexpected keys \['speed'\]"):
            parse_storage_transformers([{"name": "zl_test.shift", "configuration": {"speed": 3}}])
    with pytest.raises(MetadataValidationError, match=r"holds 'zl_test\.shift', which zarrlayered does not support"):
        ArrayV3Metadata.from_dict(document)


def test_register_functions_refuse_what_is_not_an_extension() -> None:
    with pytest.raises(TypeError, match="BaseCodec subclass"):
        register_codec("zl_test.bad", dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DataType subclass"):
        register_data_type("zl_test.bad", int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ChunkGrid subclass"):
        register_chunk_grid("zl_test.bad", ReverseCodec)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ChunkKeyEncoding subclass"):
        register_chunk_key_encoding("zl_test.bad", TiledGrid)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="StorageTransformer subclass"):
        register_storage_transformer("zl_test.bad", ReverseCodec)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sets no 'transformer_name'"):
        register_storage_transformer("zl_test.bad", StorageTransformer)
    with pytest.raises(ValueError, match="non-empty string"):
        register_storage_transformer("", ShiftKeysAndBytes)
    with pytest.raises(TypeError, match="must be callable"):
        register_store("zltest", "not a factory")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="simple name"):
        register_store("bad scheme", MemoryStore)  # type: ignore[arg-type]


def test_public_registry_module_reexports_every_registry() -> None:
    assert registry.register_codec is codec_registry.register_codec
    assert registry.get_data_type_class is dtype_registry.get_data_type_class
    assert registry.get_chunk_grid_class is chunk_grids.get_chunk_grid_class
    assert registry.get_chunk_key_encoding_class is chunk_key_encodings.get_chunk_key_encoding_class
    assert registry.get_store_factory is store_registry.get_store_factory
    assert all(hasattr(registry, name) for name in registry.__all__)
    assert set(registry.ENTRY_POINT_GROUPS.values()) == {
        "zarrlayered.codecs",
        "zarrlayered.data_types",
        "zarrlayered.chunk_grids",
        "zarrlayered.chunk_key_encodings",
        "zarrlayered.storage_transformers",
        "zarrlayered.stores",
    }


# ---------------------------------------------------------------------------------------------------
# unknown names


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"codecs": [{"name": "bytes"}, {"name": "zl_nope.codec"}]}, "unknown codec 'zl_nope.codec'"),
        ({"data_type": "zl_nope.dtype"}, "unknown data type 'zl_nope.dtype'"),
        ({"chunk_grid": {"name": "zl_nope.grid", "configuration": {}}}, "unknown chunk grid 'zl_nope.grid'"),
        ({"chunk_key_encoding": {"name": "zl_nope.keys"}}, "unknown chunk_key_encoding 'zl_nope.keys'"),
        (
            {"storage_transformers": [{"name": "zl_nope.transformer"}]},
            "field 'storage_transformers' holds 'zl_nope.transformer', which zarrlayered does not support: "
            "unknown storage transformer 'zl_nope.transformer'",
        ),
    ],
)
def test_unknown_names_in_metadata_are_named(changes: dict[str, Any], message: str) -> None:
    store = MemoryStore({"a/zarr.json": json.dumps(v3_document(**changes)).encode()})
    with pytest.raises(MetadataValidationError) as info:
        zl.open_array(store, path="a", mode="r")
    assert message in str(info.value)


def test_ignorable_unknown_storage_transformers_are_left_out() -> None:
    listed = [{"name": "zl_nope.transformer", "must_understand": False}]
    assert parse_storage_transformers(listed) == ()
    assert ArrayV3Metadata.from_dict(v3_document(storage_transformers=listed)).storage_transformers == tuple(listed)
    with pytest.raises(MetadataValidationError, match="'must_understand' must be true or false, got 'no'"):
        parse_storage_transformers([{"name": "zl_nope.transformer", "must_understand": "no"}])
    with pytest.raises(MetadataValidationError, match="storage_transformers must be a list"):
        parse_storage_transformers({"name": "zl_nope.transformer"})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# the store a transformer wraps


def test_transformers_stack_in_list_order() -> None:
    raw = MemoryStore()
    outer, inner = ShiftKeysAndBytes(tag="o", shift=1), ShiftKeysAndBytes(tag="i", shift=10)
    stacked = apply_storage_transformers(raw, "arr", [outer, inner])
    assert isinstance(stacked, TransformedStore)
    assert stacked.transformer == outer
    sync(stacked.set("arr/c/0", b"\x00\x01"))
    sync(stacked.set("arr/zarr.json", b"{}"))
    assert raw.store_dict == {"arr/i/o/c/0": b"\x0b\x0c", "arr/zarr.json": b"{}"}
    assert sync(stacked.get("arr/c/0")) == b"\x00\x01"
    assert stacked.list_prefix_sync("arr/") == ["arr/c/0", "arr/zarr.json"]


def test_transformed_store_ranges_sizes_listing_and_limits() -> None:
    raw = MemoryStore({"other/k": b"untouched"})
    store = ShiftKeysAndBytes(shift=2).wrap(raw, "a")
    sync(store.set("a/c/0", b"abcdef"))
    assert raw.store_dict["a/x/c/0"] == b"cdefgh"
    assert sync(store.get("a/c/0", RangeByteRequest(1, 3))) == b"bc"
    assert store.get_sync("a/c/0", SuffixByteRequest(2)) == b"ef"
    assert sync(store.get_partial_values([("a/c/0", None), ("a/c/9", None), ("other/k", None)])) == [
        b"abcdef",
        None,
        b"untouched",
    ]
    assert sync(store.getsize("a/c/0")) == 6
    assert sync(store.exists("a/c/0")) and not sync(store.exists("a/x/c/0"))

    async def listed(prefix: str) -> list[str]:
        return sorted([key async for key in store.list_prefix(prefix)])

    async def children(prefix: str) -> list[str]:
        return sorted([key async for key in store.list_dir(prefix)])

    assert sync(listed("")) == ["a/c/0", "other/k"]
    assert sync(listed("a/c/")) == ["a/c/0"]
    assert sync(children("a")) == ["c"]
    assert not store.supports_partial_writes
    with pytest.raises(NotImplementedError, match="changes values"):
        sync(store.set_partial_values([("a/c/0", 0, b"z")]))
    with pytest.raises(NotImplementedError, match="inside the transformed array"):
        sync(store.rename("a/c/0", "a/c/1"))
    sync(store.delete("a/c/0"))
    assert raw.store_dict == {"other/k": b"untouched"}


class TestTransformedStoreContract(StoreTests):
    """The store contract holds through a transformer that changes both keys and values."""

    def make_store(self, tmp_path: Path) -> Store:
        return ShiftKeysAndBytes(tag="s", shift=5).wrap(MemoryStore())


def test_storage_transformers_declared_in_metadata_are_applied_by_the_engine() -> None:
    declared = [{"name": "zl_test.shift", "configuration": {"tag": "t", "shift": 5}}]
    document = v3_document(storage_transformers=declared, shape=[4], chunk_grid={
        "name": "regular", "configuration": {"chunk_shape": [2]}})
    raw = MemoryStore({"a/zarr.json": json.dumps(document).encode()})
    with registrations():
        register_storage_transformer("zl_test.shift", ShiftKeysAndBytes)
        arr = zl.open_array(raw, path="a", mode="r+")
        arr[:] = [1, 2, 3, 4]
        assert sorted(raw.store_dict) == ["a/t/c/0", "a/t/c/1", "a/zarr.json"]
        assert raw.store_dict["a/t/c/0"] == bytes([6, 7])
        assert zl.open_array(raw, path="a", mode="r")[:].tolist() == [1, 2, 3, 4]

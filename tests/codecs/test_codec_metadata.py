"""JSON forms of the codecs, bad configurations, and the codec registry (runtime and entry points)."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numcodecs
import numpy as np
import pytest
import zarr.codecs as zc

from zarrlayered.codecs import registry
from zarrlayered.codecs.abc import ArrayArrayCodec, ChunkSpec
from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.gzip import GzipCodec
from zarrlayered.codecs.numcodecs_adapter import V2Codec
from zarrlayered.codecs.numcodecs_v3 import NumcodecsBytesBytesCodec
from zarrlayered.codecs.registry import get_codec_class, parse_codec_v3, parse_codecs_v3, register_codec
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.vlen import VLenBytesCodec, VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.errors import MetadataValidationError

# zarr-python 3 codec objects and ours with the same parameters
PAIRS = [
    (zc.BytesCodec(endian="little"), BytesCodec(endian="little")),
    (zc.BytesCodec(endian="big"), BytesCodec(endian="big")),
    (zc.BytesCodec(endian=None), BytesCodec(endian=None)),
    (zc.TransposeCodec(order=(2, 0, 1)), TransposeCodec(order=(2, 0, 1))),
    (zc.GzipCodec(level=7), GzipCodec(level=7)),
    (zc.ZstdCodec(level=-3, checksum=True), ZstdCodec(level=-3, checksum=True)),
    (zc.ZstdCodec(), ZstdCodec()),
    (zc.BloscCodec(), BloscCodec()),
    (
        zc.BloscCodec(typesize=4, cname="lz4hc", clevel=2, shuffle="noshuffle", blocksize=1024),
        BloscCodec(typesize=4, cname="lz4hc", clevel=2, shuffle="noshuffle", blocksize=1024),
    ),
    (zc.Crc32cCodec(), Crc32cCodec()),
    (zc.VLenUTF8Codec(), VLenUTF8Codec()),
    (zc.VLenBytesCodec(), VLenBytesCodec()),
]


def _jsonable(value: Any) -> Any:
    """zarr-python returns tuples where JSON has lists."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@pytest.mark.parametrize(("theirs", "ours"), PAIRS, ids=lambda c: type(c).__name__)
def test_to_dict_matches_zarr_python_and_round_trips(theirs: Any, ours: Any) -> None:
    expected = _jsonable(theirs.to_dict())
    assert ours.to_dict() == expected
    spec = ChunkSpec((2, 2, 2), np.dtype("u1"), 0)
    # parsed from JSON, and from zarr-python's codec object: the same codec once fitted to the array
    for parsed in (parse_codec_v3(expected), parse_codec_v3(theirs)):
        assert type(parsed) is type(ours)
        assert parsed.evolve_from_array_spec(spec) == ours.evolve_from_array_spec(spec)
        assert parsed.evolve_from_array_spec(spec).to_dict() == ours.evolve_from_array_spec(spec).to_dict()
        if not (isinstance(ours, BytesCodec) and ours.endian is None):
            # {"name": "bytes"} reads as the machine's byte order until fitted, as in zarr-python 3
            assert parsed.to_dict() == expected


def test_from_dict_round_trip_gives_equal_codecs() -> None:
    for _, ours in PAIRS:
        if isinstance(ours, BloscCodec) and ours.typesize is None:
            continue  # an unfitted blosc codec writes its fallbacks, as zarr-python does
        if isinstance(ours, BytesCodec) and ours.endian is None:
            continue  # {"name": "bytes"} reads as the machine order until fitted to a 1-byte dtype
        assert type(ours).from_dict(ours.to_dict()) == ours
        assert hash(type(ours).from_dict(ours.to_dict())) == hash(ours)


def test_bare_names() -> None:
    assert parse_codec_v3("zstd") == ZstdCodec()
    assert parse_codec_v3("bytes") == BytesCodec()
    assert parse_codec_v3("vlen-utf8") == VLenUTF8Codec()
    assert parse_codecs_v3(["bytes", {"name": "gzip", "configuration": {"level": 1}}]) == (
        BytesCodec(),
        GzipCodec(level=1),
    )
    with pytest.raises(MetadataValidationError, match="'transpose' requires the field 'configuration'"):
        parse_codec_v3("transpose")


def test_bytes_without_configuration_is_fitted_like_zarr_python() -> None:
    codec = parse_codec_v3({"name": "bytes"})
    assert codec.evolve_from_array_spec(ChunkSpec((2,), np.dtype("u1"), 0)).to_dict() == {"name": "bytes"}
    assert codec.evolve_from_array_spec(ChunkSpec((2,), np.dtype("<i2"), 0)).to_dict() == {
        "name": "bytes",
        "configuration": {"endian": sys.byteorder},
    }


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"name": "gzip", "configuration": {"level": 10}}, "'level'"),
        ({"name": "gzip", "configuration": {"level": "5"}}, "'level'"),
        ({"name": "gzip", "configuration": {"level": True}}, "'level'"),
        ({"name": "gzip"}, "'configuration'"),
        ({"name": "gzip", "configuration": {"level": 1, "mtime": 0}}, "mtime"),
        ({"name": "zstd", "configuration": {"level": 23, "checksum": False}}, "'level'"),
        ({"name": "zstd", "configuration": {"level": 1, "checksum": "yes"}}, "'checksum'"),
        ({"name": "blosc", "configuration": {"cname": "lzma"}}, "'cname'"),
        ({"name": "blosc", "configuration": {"clevel": 11}}, "'clevel'"),
        ({"name": "blosc", "configuration": {"shuffle": 1}}, "'shuffle'"),
        ({"name": "blosc", "configuration": {"shuffle": "byteshuffle"}}, "'shuffle'"),
        ({"name": "blosc", "configuration": {"typesize": 0}}, "'typesize'"),
        ({"name": "blosc", "configuration": {"blocksize": -1}}, "'blocksize'"),
        ({"name": "bytes", "configuration": {"endian": "middle"}}, "'endian'"),
        ({"name": "transpose", "configuration": {"order": "F"}}, "'order'"),
        ({"name": "transpose", "configuration": {"order": [0, 1.5]}}, "'order'"),
        ({"name": "transpose", "configuration": {}}, "'order'"),
        ({"name": "crc32c", "configuration": {"seed": 1}}, "seed"),
        ({"name": "vlen-utf8", "configuration": []}, "'configuration'"),
        ({"name": "zstd", "configuration": {"level": 1, "checksum": False}, "extra": 1}, "extra"),
        ({"name": 3}, "'name'"),
        ({"configuration": {}}, "'name'"),
        ({"name": "no-such-codec"}, "'no-such-codec'"),
        ({"name": "numcodecs.no-such-codec"}, "'numcodecs.no-such-codec'"),
        ("no-such-codec", "'no-such-codec'"),
    ],
)
def test_bad_configurations_name_the_field(document: Any, field: str) -> None:
    with pytest.raises(MetadataValidationError, match=field):
        parse_codec_v3(document)


def test_bad_constructor_arguments() -> None:
    with pytest.raises(MetadataValidationError, match="'level'"):
        GzipCodec(level=-1)
    with pytest.raises(MetadataValidationError, match="'endian'"):
        BytesCodec(endian="native")  # type: ignore[arg-type]
    with pytest.raises(MetadataValidationError, match="'order'"):
        TransposeCodec(order=3)  # type: ignore[arg-type]
    with pytest.raises(MetadataValidationError, match="cannot interpret"):
        parse_codec_v3(42)


def test_numcodecs_codecs_json_and_wrapping() -> None:
    codec = parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"level": 3}})
    assert isinstance(codec, NumcodecsBytesBytesCodec)
    assert codec.to_dict() == {"name": "numcodecs.zlib", "configuration": {"level": 3}}
    assert codec == parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"level": 3}})
    assert hash(codec) == hash(parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"level": 3}}))
    assert codec != parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"level": 4}})
    assert type(codec) is get_codec_class("numcodecs.zlib")
    wrapped = parse_codec_v3(numcodecs.Zstd(level=2))
    assert wrapped.to_dict() == {"name": "numcodecs.zstd", "configuration": {"level": 2, "checksum": False}}
    delta = parse_codec_v3(numcodecs.Delta(dtype="<i2"))
    assert isinstance(delta, ArrayArrayCodec)
    with pytest.raises(MetadataValidationError, match="field 'id' must be 'zlib'"):
        get_codec_class("numcodecs.zlib")(configuration={"id": "zstd"})
    bad = parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"lvl": 3}})
    with pytest.raises(MetadataValidationError, match="'zlib'"):
        bad.validate(ChunkSpec((3,), np.dtype("u1"), 0))


def test_v2_codec_json_round_trip() -> None:
    codec = V2Codec(filters=(numcodecs.Delta(dtype="<i4"),), compressor=numcodecs.Zlib(level=2))
    document = codec.to_dict()
    assert document["configuration"] == {
        "filters": [{"id": "delta", "dtype": "<i4", "astype": "<i4"}],
        "compressor": {"id": "zlib", "level": 2},
    }
    assert V2Codec.from_dict(document) == codec
    assert hash(V2Codec.from_dict(document)) == hash(codec)
    assert V2Codec(filters=[{"id": "delta", "dtype": "<i4"}], compressor={"id": "zlib", "level": 2}) == codec  # type: ignore[arg-type]
    with pytest.raises(MetadataValidationError, match="'nope'"):
        V2Codec(compressor={"id": "nope"})  # type: ignore[arg-type]
    with pytest.raises(MetadataValidationError, match="'filters'"):
        V2Codec(filters=numcodecs.Zlib())  # type: ignore[arg-type]


@dataclass(frozen=True)
class NegateCodec(ArrayArrayCodec):
    """A test codec: stores the negated chunk."""

    codec_name: ClassVar[str] = "test.negate"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.codec_name}

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        return cls()

    def encode(self, chunk: Any, spec: ChunkSpec) -> Any:
        return np.negative(chunk)

    def decode(self, chunk: Any, spec: ChunkSpec) -> Any:
        return np.negative(chunk)


def test_codec_registered_at_runtime_is_found_by_name() -> None:
    with pytest.raises(MetadataValidationError, match=r"'test\.negate'"):
        get_codec_class("test.negate")
    with registry.CODEC_REGISTRY.restoring():  # the registration is undone at the end
        register_codec("test.negate", NegateCodec)
        assert get_codec_class("test.negate") is NegateCodec
        codecs = parse_codecs_v3([{"name": "test.negate"}, "bytes"])
        assert codecs == (NegateCodec(), BytesCodec())
        from zarrlayered.codecs.chain import CodecChain

        spec = ChunkSpec((3,), np.dtype("<i4"), 0)
        chain = CodecChain.from_codecs(codecs)
        encoded = bytes(chain.encode(np.array([1, 2, 3], dtype="<i4"), spec))
        assert np.frombuffer(encoded, "<i4").tolist() == [-1, -2, -3]
        assert chain.decode(encoded, spec).tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="BaseCodec subclass"):
        register_codec("test.bad", dict)  # type: ignore[arg-type]


def test_entry_point_codec_is_loaded_lazily_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real installed distribution (a .dist-info with entry_points.txt on sys.path) provides a codec."""
    (tmp_path / "zl_test_ep_codec.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from zarrlayered.codecs.crc32c import Crc32cCodec

            LOADS = []
            LOADS.append(1)

            @dataclass(frozen=True)
            class EpCodec(Crc32cCodec):
                codec_name = "test.ep-checksum"

                def to_dict(self):
                    return {"name": "test.ep-checksum"}

                @classmethod
                def from_dict(cls, data):
                    return cls()
            """
        )
    )
    dist = tmp_path / "zl_test_ep_codec-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zl-test-ep-codec\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[zarrlayered.codecs]\ntest.ep-checksum = zl_test_ep_codec:EpCodec\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with registry.CODEC_REGISTRY.restoring():  # the plug-in is forgotten at the end
        registry.CODEC_REGISTRY.refresh_entry_points()  # list the group again, with the new distribution
        monkeypatch.delitem(sys.modules, "zl_test_ep_codec", raising=False)
        assert "zl_test_ep_codec" not in sys.modules  # nothing loaded before the name is asked for
        cls = get_codec_class("test.ep-checksum")
        assert cls.__name__ == "EpCodec"
        assert get_codec_class("test.ep-checksum") is cls
        module = sys.modules["zl_test_ep_codec"]
        assert module.LOADS == [1]
        codec = parse_codec_v3({"name": "test.ep-checksum"})
        assert bytes(codec.encode(b"abc", ChunkSpec((3,), np.dtype("u1"), 0)))[:3] == b"abc"  # type: ignore[attr-defined]

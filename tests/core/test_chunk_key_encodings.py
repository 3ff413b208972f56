"""Chunk key encodings: keys as zarr-python 3 writes them, round trips, parsing, registry and entry points."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr.core.chunk_key_encodings import parse_chunk_key_encoding as zarr_parse_chunk_key_encoding

from zarrlayered.core import chunk_key_encodings as cke
from zarrlayered.core.chunk_key_encodings import (
    ChunkKeyEncoding,
    DefaultChunkKeyEncoding,
    V2ChunkKeyEncoding,
    parse_chunk_key_encoding,
    register_chunk_key_encoding,
)
from zarrlayered.errors import MetadataValidationError

ENCODINGS = [
    DefaultChunkKeyEncoding("/"),
    DefaultChunkKeyEncoding("."),
    V2ChunkKeyEncoding("."),
    V2ChunkKeyEncoding("/"),
]


@pytest.mark.parametrize(
    ("encoding", "coords", "key"),
    [
        (DefaultChunkKeyEncoding(), (0, 1), "c/0/1"),
        (DefaultChunkKeyEncoding("."), (3, 10, 0), "c.3.10.0"),
        (DefaultChunkKeyEncoding(), (), "c"),
        (DefaultChunkKeyEncoding("."), (), "c"),
        (V2ChunkKeyEncoding(), (0, 1), "0.1"),
        (V2ChunkKeyEncoding("/"), (12, 0, 5), "12/0/5"),
        (V2ChunkKeyEncoding(), (), "0"),
        (V2ChunkKeyEncoding("/"), (), "0"),
        (V2ChunkKeyEncoding(), (7,), "7"),
    ],
)
def test_encode_decode_examples(encoding: ChunkKeyEncoding, coords: tuple[int, ...], key: str) -> None:
    assert encoding.encode_chunk_key(coords) == key
    assert encoding.decode_chunk_key(key, ndim=len(coords)) == coords


@pytest.mark.parametrize("encoding", ENCODINGS, ids=repr)
@pytest.mark.parametrize("coords", [(), (0,), (4, 0), (1, 22, 333)])
def test_keys_match_zarr_python(encoding: ChunkKeyEncoding, coords: tuple[int, ...]) -> None:
    theirs = zarr_parse_chunk_key_encoding(encoding.to_dict())  # type: ignore[arg-type]
    assert encoding.encode_chunk_key(coords) == theirs.encode_chunk_key(coords)
    assert encoding.to_dict() == theirs.to_dict()


@pytest.mark.parametrize("encoding", ENCODINGS, ids=repr)
@settings(derandomize=True, deadline=None)
@given(coords=st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=6).map(tuple))
def test_round_trip(encoding: ChunkKeyEncoding, coords: tuple[int, ...]) -> None:
    key = encoding.encode_chunk_key(coords)
    assert encoding.decode_chunk_key(key) == coords
    assert encoding.decode_chunk_key(key, ndim=len(coords)) == coords


@pytest.mark.parametrize("encoding", ENCODINGS, ids=repr)
@settings(derandomize=True, deadline=None)
@given(text=st.text(alphabet="c0123456789./-+x ", max_size=12))
def test_decode_is_exact(encoding: ChunkKeyEncoding, text: str) -> None:
    """A string decodes only if it is exactly the key of the coordinates it decodes to."""
    try:
        coords = encoding.decode_chunk_key(text)
    except ValueError:
        return
    assert encoding.encode_chunk_key(coords) == text


def test_decode_errors() -> None:
    with pytest.raises(ValueError, match="is not a chunk key of the default encoding"):
        DefaultChunkKeyEncoding().decode_chunk_key("0/1")
    with pytest.raises(ValueError, match="'01' is not a chunk index"):
        DefaultChunkKeyEncoding().decode_chunk_key("c/01")
    with pytest.raises(ValueError, match="has 2 coordinates, expected 3"):
        V2ChunkKeyEncoding().decode_chunk_key("1.2", ndim=3)
    with pytest.raises(ValueError, match="chunk key of a 0-d array"):
        V2ChunkKeyEncoding().decode_chunk_key("1", ndim=0)
    with pytest.raises(ValueError, match="'-1' is not a chunk index"):
        V2ChunkKeyEncoding().decode_chunk_key("0.-1")


def test_encode_rejects_negative_coordinates() -> None:
    with pytest.raises(ValueError, match="non-negative integers"):
        DefaultChunkKeyEncoding().encode_chunk_key((0, -1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "default", "configuration": {"separator": "/"}}, DefaultChunkKeyEncoding("/")),
        ({"name": "default", "configuration": {"separator": "."}}, DefaultChunkKeyEncoding(".")),
        ({"name": "default"}, DefaultChunkKeyEncoding("/")),
        ({"name": "v2", "configuration": {}}, V2ChunkKeyEncoding(".")),
        ({"name": "v2", "separator": "/"}, V2ChunkKeyEncoding("/")),
        ("v2", V2ChunkKeyEncoding(".")),
        ("default", DefaultChunkKeyEncoding("/")),
        (V2ChunkKeyEncoding("/"), V2ChunkKeyEncoding("/")),
    ],
)
def test_parse(value: Any, expected: ChunkKeyEncoding) -> None:
    assert parse_chunk_key_encoding(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"name": "weird"}, "unknown chunk_key_encoding 'weird'"),
        (
            {"name": "default", "configuration": {"separator": "-"}},
            "chunk_key_encoding 'separator' must be '.' or '/', got '-'",
        ),
        ({"name": "v2", "configuration": {"separator": ".", "x": 1}}, r"unexpected keys \['x'\]"),
        ({"name": "v2", "extra": 1, "configuration": {}}, r"unexpected keys \['extra'\]"),
        ({"configuration": {}}, "must be an object with a 'name'"),
        (42, "must be an object with a 'name'"),
    ],
)
def test_parse_errors(value: Any, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message):
        parse_chunk_key_encoding(value)


def test_bad_separator_in_constructor() -> None:
    with pytest.raises(MetadataValidationError, match="got ':'"):
        V2ChunkKeyEncoding(":")  # type: ignore[arg-type]


def test_zarr_python_reads_our_keys(tmp_path: Path) -> None:
    """zarr-python 3 finds chunks under the keys we compute for both encodings and formats."""
    for fmt, encoding in [
        (3, DefaultChunkKeyEncoding(".")),
        (3, V2ChunkKeyEncoding("/")),
        (2, V2ChunkKeyEncoding("/")),
    ]:
        store: dict[str, Any] = {}
        kwargs: dict[str, Any] = {"chunk_key_encoding": encoding.to_dict()}
        if fmt == 2:
            kwargs = {"chunk_key_encoding": {"name": "v2", "separator": encoding.separator}}
        arr = zarr.create_array(store=store, shape=(4, 4), chunks=(2, 2), dtype="i1", zarr_format=fmt, **kwargs)
        arr[:] = 1
        expected = {encoding.encode_chunk_key((i, j)) for i in range(2) for j in range(2)}
        assert expected <= set(store)


def test_runtime_registration() -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    @dataclass(frozen=True)
    class Flat(ChunkKeyEncoding):
        name: ClassVar[str] = "test.flat"

        def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
            return "k" + "_".join(map(str, coords))

        def decode_chunk_key(self, key: str, ndim: int | None = None) -> tuple[int, ...]:
            return tuple(int(p) for p in key[1:].split("_") if p)

    with cke.CHUNK_KEY_ENCODING_REGISTRY.restoring():  # the registration is undone at the end
        register_chunk_key_encoding("test.flat", Flat)
        parsed = parse_chunk_key_encoding({"name": "test.flat", "configuration": {"separator": "/"}})
        assert isinstance(parsed, Flat)
        assert parsed.encode_chunk_key((1, 2)) == "k1_2"
        assert parsed.to_dict() == {"name": "test.flat", "configuration": {"separator": "/"}}
    with pytest.raises(TypeError, match="ChunkKeyEncoding subclass"):
        register_chunk_key_encoding("x", dict)  # type: ignore[arg-type]


def test_entry_point_encoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "zl_test_cke_plugin.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from typing import ClassVar
            from zarrlayered.core.chunk_key_encodings import V2ChunkKeyEncoding

            @dataclass(frozen=True)
            class Prefixed(V2ChunkKeyEncoding):
                name: ClassVar[str] = "plugin.prefixed"

                def encode_chunk_key(self, coords):
                    return "p" + super().encode_chunk_key(coords)
            """
        )
    )
    dist = tmp_path / "zl_test_cke_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zl-test-cke-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[zarrlayered.chunk_key_encodings]\nplugin.prefixed = zl_test_cke_plugin:Prefixed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with cke.CHUNK_KEY_ENCODING_REGISTRY.restoring():  # the plug-in is forgotten at the end
        cke.CHUNK_KEY_ENCODING_REGISTRY.refresh_entry_points()  # list the group again, with the new distribution
        parsed = parse_chunk_key_encoding({"name": "plugin.prefixed", "configuration": {"separator": "/"}})
        assert parsed.encode_chunk_key((1, 2)) == "p1/2"

"""Zarr V2 between zarrlayered and zarr-python 2.18 (run in its own virtualenv through ``run_zarr2``).

zarr-python 2 -> zarrlayered: one snippet writes a hierarchy (every numeric dtype, datetimes, fixed-length
strings, object arrays with each object codec, structured dtypes, numcodecs compressors and filters, F order,
``/`` keys, missing chunks, the historic ``fill_value: 0`` of string/object arrays, attributes, nested groups,
consolidated metadata) and saves what zarr-python 2 itself reads back as ``.npy`` files; zarrlayered must read
the same. zarrlayered -> zarr-python 2: we write a hierarchy, one snippet reads all of it (through the consolidated
metadata too) and saves it; the values, dtypes, fill values and attributes must be ours.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
from interop_cases import values
from zarr2_env import run_zarr2, zarr2_python

import zarrlayered

# name -> (create_dataset keyword arguments as Python source, value expression, written selection)
ZARR2_ARRAYS: dict[str, tuple[str, str, str]] = {
    **{
        f"dtype-{dt.strip('<>|').replace('[', '').replace(']', '')}{'-be' if dt.startswith('>') else ''}": (
            f"dtype={dt!r}", f"num({dt!r})", "..."
        )
        for dt in ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8",
                   "<c16", ">i2", ">u8", ">f4", ">f8", ">c16", "<M8[ns]", "<M8[D]", "<m8[s]", "|S5", "<U5", "|V3"]
    },
    "str": ("dtype=str", "obj(*[['', 'a', 'héllo', '日本語', 'x' * 30][i % 5] for i in range(35)])", "..."),
    "str-missing": ("dtype=str", "obj(*[['', 'a', 'héllo'][i % 3] for i in range(14)]).reshape(2, 7)", "slice(0, 2)"),
    "bytes": ("dtype=bytes", "obj(*[[b'', b'\\x00', bytes(range(256))][i % 3] for i in range(35)])", "..."),
    "bytes-missing": ("dtype=bytes", "obj(b'a', b'', b'c').reshape(1, 3)", "slice(0, 1), slice(0, 3)"),
    "json": ("dtype=object, object_codec=numcodecs.JSON()",
             "obj(*[[{'a': 1}, [1, 2], 's', 1.5, None][i % 5] for i in range(35)])", "..."),
    "json-missing": ("dtype=object, object_codec=numcodecs.JSON()",
                     "obj({'k': [1]}, 'v', None, 1, [], 2.5).reshape(2, 3)", "slice(0, 2), slice(0, 3)"),
    "msgpack": ("dtype=object, object_codec=numcodecs.MsgPack()",
                "obj(*[[[1, 2], 's', 1.5, None, b'raw'][i % 5] for i in range(35)])", "..."),
    "vlen-array": ("dtype=object, object_codec=numcodecs.VLenArray('<i4')",
                   "obj(*[np.arange(i % 4, dtype='<i4') for i in range(35)])", "..."),
    "structured": ("dtype=[('a', '<i4'), ('b', '<f8', (2,)), ('c', 'S3')]", "structured()", "..."),
    "structured-fill": ("dtype=[('a', '<i4'), ('b', '<f8')], fill_value=np.array((3, 1.5), dtype=[('a', '<i4'), "
                        "('b', '<f8')])[()]",
                        "np.array([(1, 2.0)], dtype=[('a', '<i4'), ('b', '<f8')]).reshape(1, 1)",
                        "slice(0, 1), slice(0, 1)"),
    "fill-nan": ("dtype='<f4', fill_value=np.nan", "num('<f4')[:2]", "slice(0, 2)"),
    "fill-ninf": ("dtype='<f8', fill_value=-np.inf", "num('<f8')[:1, :2]", "slice(0, 1), slice(0, 2)"),
    "fill-int": ("dtype='<i2', fill_value=-7", "num('<i2')[3:]", "slice(3, 5)"),
    "fill-complex": ("dtype='<c16', fill_value=complex(1, np.nan)", "num('<c16')[:1]", "slice(0, 1)"),
    "fill-none": ("dtype='<i4', fill_value=None", "num('<i4')[:2]", "slice(0, 2)"),
    "order-F": ("dtype='<i8', order='F'", "num('<i8')", "..."),
    "order-F-str": ("dtype=str, order='F'", "obj(*[['', 'a', 'héllo', '日本語'][i % 4] * (i % 3) for i in range(35)])",
                    "..."),
    "order-F-structured": ("dtype=[('a', '<i4'), ('b', '<f8', (2,)), ('c', 'S3')], order='F'", "structured()", "..."),
    "separator-slash": ("dtype='<u2', dimension_separator='/'", "num('<u2')", "..."),
    "0d": ("shape=(), chunks=(), dtype='<f8'", "np.array(2.5)", "..."),
    "1d": ("shape=(11,), chunks=(4,), dtype='<i4'", "np.arange(11, dtype='<i4') * 3", "..."),
    **{
        f"compressor-{name}": (f"dtype='<f8', compressor={expr}", "num('<f8')", "...")
        for name, expr in [
            ("none", "None"), ("zlib", "numcodecs.Zlib(level=1)"), ("gzip", "numcodecs.GZip(level=1)"),
            ("zstd", "numcodecs.Zstd(level=3)"), ("bz2", "numcodecs.BZ2(level=1)"), ("lzma", "numcodecs.LZMA()"),
            ("lz4", "numcodecs.LZ4()"),
            ("blosc-zstd-bitshuffle", "numcodecs.Blosc(cname='zstd', clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)"),
            ("blosc-lz4-noshuffle", "numcodecs.Blosc(cname='lz4', shuffle=numcodecs.Blosc.NOSHUFFLE)"),
        ]
    },
    "filter-delta": ("dtype='<i4', filters=[numcodecs.Delta(dtype='<i4')]", "num('<i4')", "..."),
    "filter-fixedscaleoffset": ("dtype='<f8', filters=[numcodecs.FixedScaleOffset(0, 10, '<f8', astype='<i4')]",
                                "(np.arange(35) / 7 - 2).reshape(5, 7)", "..."),
    "filter-quantize": ("dtype='<f4', filters=[numcodecs.Quantize(digits=2, dtype='<f4')]",
                        "(np.arange(35, dtype='<f4') / 7).reshape(5, 7)", "..."),
    "filter-astype": ("dtype='<f8', filters=[numcodecs.AsType(encode_dtype='<f4', decode_dtype='<f8')]",
                      "(np.arange(35) / 4).reshape(5, 7)", "..."),
    "filter-packbits": ("dtype='|b1', filters=[numcodecs.PackBits()]", "num('|b1')", "..."),
    "filter-shuffle": ("dtype='<i8', filters=[numcodecs.Shuffle(elementsize=8)]", "num('<i8')", "..."),
    "filter-chain": ("dtype='<i2', filters=[numcodecs.Delta(dtype='<i2'), numcodecs.Shuffle(elementsize=2)], "
                     "compressor=numcodecs.Zlib(1)", "num('<i2')", "..."),
}

ZARR2_WRITER = """
import json, os
import numpy as np, numcodecs, zarr
import msgpack  # noqa: F401  (the MsgPack object codec needs it; make test installs it in both environments)

def num(dt):
    dt = np.dtype(dt)
    rng = np.random.default_rng(7)
    if dt.kind == 'b':
        out = rng.random(35) > 0.5
    elif dt.kind in 'iu':
        info = np.iinfo(dt)
        out = rng.integers(info.min, info.max, 35, dtype=dt.newbyteorder('='), endpoint=True)
        out[0], out[-1] = info.min, info.max
    elif dt.kind == 'f':
        out = rng.standard_normal(35) * 100
        out[:3] = [np.nan, np.inf, -np.inf]
    elif dt.kind == 'c':
        out = rng.standard_normal(35) + 1j * rng.standard_normal(35)
        out[0] = complex(np.nan, 2)
    elif dt.kind in 'Mm':
        out = rng.integers(-10**6, 10**6, 35).astype('<i8').view(dt)
        out[-1] = np.array('NaT', dtype=dt)
    elif dt.kind == 'S':
        out = np.array([[b'', b'ab', b'abcde', b'\\x00x'][i % 4] for i in range(35)], dtype=dt)
    elif dt.kind == 'U':
        out = np.array([['', 'ab', 'héllo', '日本'][i % 4] for i in range(35)], dtype=dt)
    elif dt.kind == 'V':
        out = np.frombuffer(bytes(range(105)), dtype=dt).copy()
    return out.astype(dt).reshape(5, 7)

def obj(*items):
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out.reshape(5, 7) if len(items) == 35 else out

def structured():
    out = np.zeros(35, dtype=[('a', '<i4'), ('b', '<f8', (2,)), ('c', 'S3')])
    out['a'] = np.arange(35) - 10
    out['b'] = np.arange(70).reshape(35, 2) / 3
    out['c'] = [[b'', b'x', b'abc'][i % 3] for i in range(35)]
    return out.reshape(5, 7)

root = zarr.open_group('from_zarr2.zarr', mode='w')
root.attrs.update({'title': 'zarr2 root', 'nested': {'x': [1, 2.5, None]}, 'nan': float('nan'), 'é': 'ü'})
arrays_group = root.create_group('arrays')
arrays_group.attrs['level'] = 1
deep = root.create_group('a/b/c')
deep.attrs['deep'] = True
deep.create_dataset('leaf', data=np.arange(6, dtype='<i4').reshape(2, 3), chunks=(1, 2))
os.makedirs('expected', exist_ok=True)
skipped = []
for name, (kwargs, expr, selection) in ARRAYS.items():
    kw = eval('dict(' + kwargs + ')')
    kw.setdefault('shape', (5, 7))
    kw.setdefault('chunks', (2, 3))
    array = arrays_group.create_dataset(name, **kw)
    array.attrs['name'] = name
    array[eval('np.s_[' + selection + ']')] = eval(expr)
    np.save(os.path.join('expected', name + '.npy'), array[...], allow_pickle=True)
zarr.consolidate_metadata('from_zarr2.zarr')
print(json.dumps(skipped))
"""


@pytest.fixture(scope="module")
def zarr2_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The hierarchy zarr-python 2.18 wrote, and the arrays it could not write (none expected)."""
    cwd = tmp_path_factory.mktemp("zarr2")
    out = run_zarr2(f"ARRAYS = {ZARR2_ARRAYS!r}\n{ZARR2_WRITER}", cwd)
    return cwd, json.loads(out.strip().splitlines()[-1])


HISTORIC_FILL = {"str-missing": "", "bytes-missing": b"", "json-missing": None}


def _missing(name: str, expected: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """zarr-python 2 reads the historic fill value 0 of string/object arrays as the int 0; we read '', b'', None."""
    if expected.dtype != object:
        return expected
    replacement = {"str": "", "bytes": b""}.get(name.split("-", maxsplit=1)[0])
    out = expected.copy()
    for index, item in np.ndenumerate(expected):
        if isinstance(item, int) and not isinstance(item, bool) and item == 0:
            out[index] = replacement
    return out


@pytest.mark.parametrize("name", sorted(ZARR2_ARRAYS))
def test_zarrlayered_reads_zarr2_arrays(name: str, zarr2_tree: tuple[Path, list[str]]) -> None:
    cwd, skipped = zarr2_tree
    assert name not in skipped
    expected = _missing(name, np.load(cwd / "expected" / f"{name}.npy", allow_pickle=True))
    array = zarrlayered.open_array(str(cwd / "from_zarr2.zarr"), path=f"arrays/{name}", mode="r")
    got = array[...]
    if name == "fill-none":  # fill_value null: zarr-python 2 leaves missing chunks uninitialised, we read zeros
        expected[2:] = 0
    if name in HISTORIC_FILL:  # zarr-python 2 wrote "fill_value": 0, which zarr-python 3 cannot read right
        document = json.loads((cwd / "from_zarr2.zarr" / "arrays" / name / ".zarray").read_text())
        assert document["fill_value"] == 0
        assert array.fill_value == HISTORIC_FILL[name]
    assert array.attrs["name"] == name
    assert got.shape == expected.shape
    if expected.dtype == object:
        assert [_plain(x) for x in got.ravel().tolist()] == [_plain(x) for x in expected.ravel().tolist()]
    else:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def _plain(item: Any) -> Any:
    return item.tolist() if isinstance(item, np.ndarray) else item


def test_zarrlayered_reads_zarr2_hierarchy(zarr2_tree: tuple[Path, list[str]], tmp_path: Path) -> None:
    cwd, skipped = zarr2_tree
    # change a member's .zattrs after consolidation: only a consolidated open still sees the old value
    tree = tmp_path / "copy.zarr"
    shutil.copytree(cwd / "from_zarr2.zarr", tree)
    (tree / "arrays" / ".zattrs").write_text(json.dumps({"level": "changed"}))
    for use_consolidated in (True, False):
        root = zarrlayered.open_group(str(tree), mode="r", use_consolidated=use_consolidated)
        assert root["arrays"].attrs["level"] == (1 if use_consolidated else "changed")
        assert root.attrs["title"] == "zarr2 root"
        assert root.attrs["nested"] == {"x": [1, 2.5, None]}
        assert np.isnan(root.attrs["nan"]) and root.attrs["é"] == "ü"
        arrays = root["arrays"]
        assert isinstance(arrays, zarrlayered.Group)
        assert sorted(arrays.array_keys()) == sorted(set(ZARR2_ARRAYS) - set(skipped))
        deep = root["a/b/c"]
        assert isinstance(deep, zarrlayered.Group) and deep.attrs["deep"] is True
        leaf = deep["leaf"]
        assert isinstance(leaf, zarrlayered.Array)
        np.testing.assert_array_equal(leaf[...], np.arange(6).reshape(2, 3))
    assert zarrlayered.open_consolidated(str(tree), mode="r")["arrays"].attrs["level"] == 1


# -- zarrlayered -> zarr-python 2 ---------------------------------------------------------------------

OURS: dict[str, dict[str, Any]] = {
    **{f"dtype-{dt}": {"dtype": dt} for dt in ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                                "uint32", "uint64", "float16", "float32", "float64", "complex64",
                                                "complex128", ">i2", ">f8", ">c16", "M8[ns]", "m8[s]", "S5", "U5"]},
    "str": {"dtype": str},
    "bytes": {"dtype": bytes},
    "json": {"dtype": object, "filters": [numcodecs.JSON()]},
    "msgpack": {"dtype": object, "filters": [{"id": "msgpack2"}]},
    "structured": {"dtype": [("a", "<i4"), ("b", "<f8", (2,)), ("c", "S3")]},
    "fill-nan": {"dtype": "float32", "fill_value": float("nan"), "region": (slice(0, 2),)},
    "fill-inf": {"dtype": "float64", "fill_value": float("inf"), "region": (slice(0, 1), slice(0, 2))},
    "fill-int": {"dtype": "int16", "fill_value": -7, "region": (slice(3, 5),)},
    "fill-complex": {"dtype": "complex64", "fill_value": complex(np.nan, 1), "region": (slice(0, 1),)},
    "fill-str": {"dtype": str, "fill_value": "?", "region": (slice(0, 2),)},
    "order-F": {"dtype": "int32", "order": "F"},
    "order-F-str": {"dtype": str, "order": "F"},
    "separator-slash": {"dtype": "uint16", "chunk_key_encoding": {"name": "v2", "configuration": {"separator": "/"}}},
    "zlib": {"dtype": "float64", "compressors": {"id": "zlib", "level": 1}},
    "gzip": {"dtype": "float64", "compressors": {"id": "gzip", "level": 1}},
    "blosc": {"dtype": "float64", "compressors": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2}},
    "none": {"dtype": "float64", "compressors": None},
    "delta": {"dtype": "int32", "filters": [numcodecs.Delta(dtype="<i4")]},
    "fixedscaleoffset": {"dtype": "float64", "filters": [numcodecs.FixedScaleOffset(0, 4, "<f8", astype="<i4")],
                         "data": "quarters"},
    "0d": {"dtype": "float64", "shape": (), "chunks": ()},
}
_VALUE_KIND = {"str": "string", "bytes": "bytes", "json": "json", "msgpack": "msgpack", "fill-str": "string",
               "order-F-str": "string"}

ZARR2_READER = """
import json, os, sys
import numpy as np, zarr
import msgpack  # noqa: F401  (the MsgPack object codec needs it; make test installs it in both environments)
os.makedirs('read', exist_ok=True)
report = {}
for consolidated in (False, True):
    root = zarr.open_consolidated('ours.zarr', mode='r') if consolidated else zarr.open_group('ours.zarr', mode='r')
    arrays = root['arrays']
    names = sorted(arrays.array_keys())
    entry = {'names': names, 'root_attrs': root.attrs.asdict(), 'arrays_attrs': arrays.attrs.asdict(),
             'deep_attrs': root['x/y'].attrs.asdict(), 'deep_leaf': root['x/y/leaf'][...].tolist(), 'arrays': {}}
    for name in names:
        array = arrays[name]
        data = array[...]
        if not consolidated:
            np.save(os.path.join('read', name + '.npy'), data, allow_pickle=True)
        fill = array.fill_value
        entry['arrays'][name] = {
            'dtype': str(array.dtype), 'shape': list(array.shape), 'chunks': list(array.chunks),
            'order': array.order, 'attrs': array.attrs.asdict(),
            'fill_value': repr(fill.tolist() if hasattr(fill, 'tolist') else fill),
        }
    report['consolidated' if consolidated else 'plain'] = entry
print(json.dumps({'report': report}))
"""


def _our_values(name: str, spec: dict[str, Any]) -> np.ndarray[Any, Any]:
    shape = spec.get("shape", (5, 7))
    if spec.get("data") == "quarters":
        return (np.arange(35) / 4 - 3).reshape(shape)
    if name in _VALUE_KIND:
        return values(_VALUE_KIND[name], shape)
    dtype = spec["dtype"]
    if isinstance(dtype, list):
        out = np.zeros(int(np.prod(shape)), dtype=dtype)
        out["a"] = np.arange(out.size) - 9
        out["b"] = np.arange(out.size * 2).reshape(-1, 2) / 7
        out["c"] = [[b"", b"q", b"xyz"][i % 3] for i in range(out.size)]
        return out.reshape(shape)
    return values(dtype, shape)


def _expected(name: str, spec: dict[str, Any]) -> np.ndarray[Any, Any]:
    data = _our_values(name, spec)
    region = spec.get("region")
    if region is None:
        return data
    out = np.empty_like(data)
    out[...] = spec["fill_value"]
    out[region] = data[region]
    return out


@pytest.fixture(scope="module")
def our_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A V2 hierarchy zarrlayered wrote, and what zarr-python 2.18 read from it."""
    zarr2_python()  # skip before writing when zarr-python 2 is not there
    cwd = tmp_path_factory.mktemp("ours")
    path = str(cwd / "ours.zarr")
    root = zarrlayered.open_group(path, mode="w", zarr_format=2)
    root.attrs.update({"title": "ours", "nested": {"x": [1, None]}, "é": "ü"})
    arrays = root.create_group("arrays")
    arrays.attrs["level"] = 1
    deep = root.create_group("x/y")
    deep.attrs["deep"] = [True]
    deep.create_array("leaf", shape=(2, 3), chunks=(1, 2), dtype="int32")[...] = np.arange(6).reshape(2, 3)
    for name, spec in OURS.items():
        kwargs = {k: v for k, v in spec.items() if k not in ("region", "data")}
        kwargs.setdefault("shape", (5, 7))
        kwargs.setdefault("chunks", (2, 3))
        array = arrays.create_array(name, attributes={"name": name, "list": [1, "a"]}, **kwargs)
        region = spec.get("region")
        data = _our_values(name, spec)
        array[region if region is not None else ...] = data[region] if region is not None else data
    zarrlayered.consolidate_metadata(path)
    out = json.loads(run_zarr2(ZARR2_READER, cwd).strip().splitlines()[-1])
    return cwd, out


@pytest.mark.parametrize("name", sorted(OURS))
def test_zarr2_reads_zarrlayered_arrays(name: str, our_tree: tuple[Path, dict[str, Any]]) -> None:
    cwd, out = our_tree
    spec = OURS[name]
    expected = _expected(name, spec)
    got = np.load(cwd / "read" / f"{name}.npy", allow_pickle=True)
    assert got.shape == expected.shape
    if expected.dtype == object:
        assert got.ravel().tolist() == expected.ravel().tolist()
    else:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    for kind in ("plain", "consolidated"):
        info = out["report"][kind]["arrays"][name]
        assert info["attrs"] == {"name": name, "list": [1, "a"]}
        assert info["order"] == spec.get("order", "C")
        assert tuple(info["shape"]) == expected.shape
        if "fill_value" in spec:
            assert info["fill_value"] == repr(np.asarray(spec["fill_value"], dtype=expected.dtype).tolist())


def test_zarr2_reads_zarrlayered_hierarchy(our_tree: tuple[Path, dict[str, Any]]) -> None:
    _, out = our_tree
    for kind in ("plain", "consolidated"):
        entry = out["report"][kind]
        assert entry["names"] == sorted(OURS)
        assert entry["root_attrs"] == {"title": "ours", "nested": {"x": [1, None]}, "é": "ü"}
        assert entry["arrays_attrs"] == {"level": 1}
        assert entry["deep_attrs"] == {"deep": [True]}
        assert entry["deep_leaf"] == [[0, 1, 2], [3, 4, 5]]


# -- F-order arrays of JSON objects -------------------------------------------------------------------

F_ORDER_JSON = """
import numpy as np, numcodecs, zarr
array = zarr.open_array('f.zarr', mode='w', shape=(4, 6), chunks=(2, 3), dtype=object, order='F',
                        object_codec=numcodecs.JSON(), compressor=None)
values = np.empty((4, 6), dtype=object)
values[...] = np.arange(24).reshape(4, 6).tolist()
array[...] = values
"""


def _f_order_json(path: Path) -> np.ndarray[Any, Any]:
    values = np.empty((4, 6), dtype=object)
    values[...] = np.arange(24).reshape(4, 6).tolist()
    array = zarrlayered.create_array(str(path), shape=(4, 6), chunks=(2, 3), dtype=object, order="F",
                                     filters=[numcodecs.JSON()], compressors=None, zarr_format=2)
    array[...] = values
    return values


def test_f_order_json_chunks_same_bytes_as_zarr2(tmp_path: Path) -> None:
    """Chunks of an F-order JSON object array: zarr-python 2 and we write the same bytes (nested lists in
    logical order with the chunk shape)."""
    run_zarr2(F_ORDER_JSON, tmp_path)
    _f_order_json(tmp_path / "ours.zarr")
    for key in ("0.0", "0.1", "1.0", "1.1"):
        assert (tmp_path / "ours.zarr" / key).read_bytes() == (tmp_path / "f.zarr" / key).read_bytes(), key


def test_f_order_json_reads_back_as_written(tmp_path: Path) -> None:
    values = _f_order_json(tmp_path / "ours.zarr")
    assert zarrlayered.open_array(str(tmp_path / "ours.zarr"), mode="r")[...].tolist() == values.tolist()

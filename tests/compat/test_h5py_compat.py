"""h5py_compat beyond what h5py itself can check: the stores, what other Zarr readers see, the record."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

import zarrlayered
import zarrlayered.h5py_compat as shim
from zarrlayered.compat.h5py import H5pyDeprecationWarning, H5pyWarning
from zarrlayered.compat.h5py.filters import guess_chunk
from zarrlayered.stores.memory import MemoryStore


@pytest.fixture(autouse=True)
def _quiet_numcodecs_v3() -> None:
    warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3")
    warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification")


def _fill(f: shim.File) -> None:
    f.attrs["title"] = "run 7"
    g = f.create_group("raw")
    g.create_dataset("signal", data=np.arange(12, dtype="<f4").reshape(3, 4), chunks=(2, 2),
                     compression="gzip", compression_opts=5, shuffle=True, fletcher32=True)
    g["labels"] = ["a", "bé"]
    g["signal"].attrs["units"] = "mV"


def _check(f: shim.Group, root: bool = True) -> None:
    if root:
        assert f.attrs["title"] == "run 7"
    sig = f["raw/signal"]
    np.testing.assert_array_equal(sig[...], np.arange(12, dtype="f4").reshape(3, 4))
    assert (sig.chunks, sig.compression, sig.compression_opts, sig.shuffle, sig.fletcher32) == ((2, 2), "gzip", 5,
                                                                                                True, True)
    assert list(f["raw/labels"][...]) == [b"a", "bé".encode()]
    assert sig.attrs["units"] == "mV"


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_what_the_shim_writes(tmp_path: Path, fmt: int) -> None:
    path = tmp_path / "data.h5"
    with shim.File(path, "w", zarr_format=fmt) as f:
        _fill(f)
        f.create_dataset("grow", (0, 2), maxshape=(None, 2), dtype="i8")
    group = zarr.open_group(str(path), mode="r")
    assert group.metadata.zarr_format == fmt
    np.testing.assert_array_equal(group["raw/signal"][:], np.arange(12, dtype="f4").reshape(3, 4))
    assert list(group["raw/labels"][:]) == ["a", "bé"]
    assert group["raw/signal"].attrs["units"] == "mV"
    record = dict(group["grow"].attrs)[shim.RESERVED_KEY]
    assert record["maxshape"] == [None, 2]
    with shim.File(path, "r") as f:
        _check(f)


def test_the_shim_reads_what_zarr_python_writes(tmp_path: Path) -> None:
    path = tmp_path / "z.zarr"
    group = zarr.open_group(str(path), mode="w")
    group.create_array("a", data=np.arange(10, dtype="i2"), chunks=(4,))
    group.create_array("s", data=np.array(["x", "yz"]))
    group.attrs["n"] = 5
    group.attrs["nested"] = {"k": [1, 2]}
    with shim.File(path, "r") as f:
        a = f["a"]
        assert (a.shape, a.chunks, a.maxshape, a.compression) == ((10,), (4,), (None,), "zstd")
        np.testing.assert_array_equal(a[2:5], [2, 3, 4])
        assert list(f["s"][...]) == [b"x", b"yz"]
        assert shim.check_string_dtype(f["s"].dtype).encoding == "utf-8"
        assert repr(f.attrs["n"]) == "np.int64(5)" and f.attrs["nested"] == {"k": [1, 2]}
    with shim.File(path, "a") as f:
        f["a"].resize((12,))  # a Zarr array without a record can grow on every axis
        f["a"][10:] = 7
    np.testing.assert_array_equal(zarr.open_array(str(path / "a"))[:], np.r_[np.arange(10), 7, 7])


def test_the_record_is_hidden_from_attrs(tmp_path: Path) -> None:
    with shim.File(tmp_path / "f.h5", "w") as f:
        d = f.create_dataset("d", (4,), dtype="i1", maxshape=(8,))
        d.attrs["x"] = np.float32(1.5)
        assert list(d.attrs) == ["x"] and len(d.attrs) == 1 and shim.RESERVED_KEY not in d.attrs
        with pytest.raises(KeyError):
            d.attrs[shim.RESERVED_KEY]
        engine_attrs = d.zarr_node.metadata.attributes
        assert engine_attrs["x"] == 1.5
        assert engine_attrs[shim.RESERVED_KEY]["maxshape"] == [8]
        assert engine_attrs[shim.RESERVED_KEY]["attrs"] == {"x": {"dtype": "<f4"}}
        del d.attrs["x"]
        assert shim.RESERVED_KEY in d.zarr_node.metadata.attributes and len(d.attrs) == 0


@pytest.mark.parametrize("kind", ["zip", "dict", "store", "url", "core", "bytesio"])
def test_any_store_in_place_of_a_path(tmp_path: Path, kind: str) -> None:
    buffer = io.BytesIO()
    store = MemoryStore()
    mapping: dict[str, bytes] = {}
    target = {
        "zip": str(tmp_path / "data.zip"), "dict": mapping, "store": store, "url": f"memory://{tmp_path.name}/x",
        "core": str(tmp_path / "mem.h5"), "bytesio": buffer,
    }[kind]
    extra = {"driver": "core", "backing_store": False} if kind == "core" else {}
    with shim.File(target, "w", **extra) as f:
        _fill(f)
        _check(f)
    if kind == "core":
        assert not (tmp_path / "mem.h5").exists()
        return
    if kind == "zip":
        with zipfile.ZipFile(target) as archive:
            assert "raw/signal/zarr.json" in archive.namelist()
    if kind == "bytesio":
        assert zipfile.is_zipfile(io.BytesIO(buffer.getvalue()))
    with shim.File(target, "r") as f:
        _check(f)
        with pytest.raises(OSError):
            f["raw/signal"][0, 0] = 1


def test_handles_on_one_path_share_state(tmp_path: Path) -> None:
    with shim.File(tmp_path / "f.h5", "w") as f:
        a = f.create_dataset("d", (2,), maxshape=(None,), dtype="i4")
        b = f["d"]
        a.resize((5,))
        b.attrs["k"] = 1
        assert b.shape == (5,) and a.attrs["k"] == 1 and a == b
        g = f.create_group("g")
        f.move("g", "h/g2")
        assert g.name == "/h/g2" and g == f["h/g2"]


def test_copy_between_formats(tmp_path: Path) -> None:
    with shim.File(tmp_path / "v3.h5", "w") as src, shim.File(tmp_path / "v2.h5", "w", zarr_format=2) as dst:
        _fill(src)
        src.copy("raw", dst)
        dst.copy(dst["raw"], dst, "again")
        _check(dst, root=False)
        _check(dst["again"].parent, root=False)
        np.testing.assert_array_equal(dst["again/signal"][...], src["raw/signal"][...])
    assert zarrlayered.open_group(str(tmp_path / "v2.h5"), mode="r").zarr_format == 2


def test_threads_create_datasets_in_one_file(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with shim.File(tmp_path / "f.h5", "w") as f:
        def make(i: int) -> None:
            f.create_dataset(f"g{i % 3}/d{i}", data=np.full(5, i))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(make, range(24)))
        assert sorted(f) == ["g0", "g1", "g2"]
        assert sum(len(f[g]) for g in f) == 24
        assert f["g1/d7"][0] == 7


@pytest.mark.parametrize("shape,itemsize", [((100, 100), 4), ((1000, 100), 8), ((0, 3), 8), ((20, 100), 4),
                                            ((3,), 100_000_000), ((2**15, 2**16), 4), ((7, 9, 11, 13), 2)])
def test_guess_chunk_is_h5py_s(shape: tuple[int, ...], itemsize: int) -> None:
    assert guess_chunk(shape, itemsize) == h5py._hl.filters.guess_chunk(shape, None, itemsize)


def test_an_existing_file_keeps_its_format(tmp_path: Path) -> None:
    with shim.File(tmp_path / "v2.h5", "w", zarr_format=2) as f:
        f["x"] = [1]
    with shim.File(tmp_path / "v2.h5", "a") as f:  # detected
        f["y"] = [2]
        assert f.zarr_format == 2 and f["y"].zarr_node.zarr_format == 2
    with pytest.raises(ValueError, match="V2 hierarchy"):
        shim.File(tmp_path / "v2.h5", "a", zarr_format=3)


def test_mode_w_replaces_any_zarr_hierarchy(tmp_path: Path) -> None:
    zarrlayered.create_array(str(tmp_path / "arr.zarr"), data=np.arange(3))
    with pytest.raises(OSError, match="array"):
        shim.File(tmp_path / "arr.zarr", "r")
    with shim.File(tmp_path / "arr.zarr", "w") as f:
        f["x"] = [1]
    assert zarrlayered.open_group(str(tmp_path / "arr.zarr"), mode="r")["x"][0] == 1


def test_mode_w_does_not_delete_a_foreign_directory(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious")
    with pytest.raises(OSError, match="refusing"):
        shim.File(folder, "w")
    assert (folder / "keep.txt").read_text() == "precious"
    with pytest.raises(OSError):
        shim.File(folder, "r")


def test_big_endian_is_stored_big_endian(tmp_path: Path) -> None:
    with shim.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("be", data=np.arange(3, dtype=">u2"))
        assert f["be"].dtype == np.dtype(">u2") and f["be"][...].dtype == np.dtype(">u2")
    codecs = zarr.open_array(str(tmp_path / "f.h5" / "be")).metadata.codecs
    assert codecs[0].to_dict()["configuration"]["endian"] == "big"


def test_zarr_python_2_reads_a_v2_file(tmp_path: Path) -> None:
    from zarr2_env import run_zarr2

    with shim.File(tmp_path / "v2.h5", "w", zarr_format=2) as f:
        _fill(f)
        f.create_dataset("be", data=np.arange(3, dtype=">i4"))
    out = run_zarr2(
        """
        import json, zarr
        g = zarr.open_group("v2.h5", mode="r")
        s = g["raw/signal"]
        print(json.dumps([s[:].tolist(), [f.codec_id for f in s.filters], s.compressor.codec_id,
                          list(g["raw/labels"][:]), g["be"].dtype.str, g["be"][:].tolist(), g.attrs["title"]]))
        """,
        tmp_path,
    )
    signal, filters, compressor, labels, be_dtype, be, title = json.loads(out.strip().splitlines()[-1])
    assert signal == np.arange(12).reshape(3, 4).tolist()
    assert (filters, compressor) == (["shuffle", "fletcher32"], "zlib")
    assert (labels, be_dtype, be, title) == (["a", "bé"], ">i4", [0, 1, 2], "run 7")


def test_an_unclosed_zip_file_is_written_out_when_dropped(tmp_path: Path) -> None:
    import gc

    f = shim.File(tmp_path / "a.zip", "w")
    f["x"] = np.arange(4)
    d = f["x"]
    del f
    gc.collect()
    assert d[2] == 2  # a handle keeps the file open
    del d
    gc.collect()
    with shim.File(tmp_path / "a.zip", "r") as f:
        assert f["x"][3] == 3


@pytest.mark.parametrize("kwargs", [{}, {"start": 4}, {"count": 7}, {"stride": 2}, {"stride": 2, "block": 2},
                                    {"stride": 3, "block": 2}, {"start": 1, "count": 2, "stride": 5, "block": 4},
                                    {"start": 1, "stride": 3, "block": 2}, {"count": 11},
                                    {"start": 8, "stride": 4, "block": 3}, {"block": 3}])
def test_multiblockslice_selects_as_h5py(tmp_path: Path, kwargs: dict[str, int]) -> None:
    def outcome(module: object, path: Path) -> object:
        try:
            mbs = module.MultiBlockSlice(**kwargs)  # type: ignore[attr-defined]
            with module.File(path, "w") as f:  # type: ignore[attr-defined]
                f["x"] = np.arange(10)
                return (mbs.indices(10), f["x"][mbs].tolist())
        except ValueError as exc:
            return type(exc).__name__

    assert outcome(shim, tmp_path / "z.h5") == outcome(h5py, tmp_path / "h.h5")


def test_file_accepts_any_mutable_mapping() -> None:
    """A zarr-python 2 style MutableMapping store (here a user's own class) plugs into File unchanged."""
    import collections.abc

    import numpy as np

    import zarrlayered.h5py_compat as h5py_shim

    class UserMapping(collections.abc.MutableMapping):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self.data: dict[str, bytes] = {}

        def __getitem__(self, key: str) -> bytes:
            return self.data[key]

        def __setitem__(self, key: str, value: bytes) -> None:
            self.data[key] = bytes(value)

        def __delitem__(self, key: str) -> None:
            del self.data[key]

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    mapping = UserMapping()
    with pytest.raises(FileNotFoundError):
        h5py_shim.File(mapping, "r")
    with h5py_shim.File(mapping, "w") as f:
        f.create_dataset("g/x", data=np.arange(6).reshape(2, 3), chunks=(1, 3))
        f["g"].attrs["units"] = "m"
    assert "g/x/zarr.json" in mapping.data
    with h5py_shim.File(mapping, "r") as f:
        np.testing.assert_array_equal(f["g/x"][:], np.arange(6).reshape(2, 3))
        assert f["g"].attrs["units"] == "m"
    with pytest.raises(FileExistsError):
        h5py_shim.File(mapping, "w-")


@pytest.mark.parametrize("fmt", [2, 3])
def test_vlen_sequences_round_trip(tmp_path: Path, fmt: int) -> None:
    dt = shim.vlen_dtype(np.dtype("<i2"))
    with shim.File(tmp_path / "v.zarr", "w", zarr_format=fmt) as f:
        ds = f.create_dataset("seq", (2, 2), dtype=dt)
        ds[0, 0] = [1, 2, 3]
        ds[1, :] = np.array([np.arange(2), np.arange(0)], dtype=object)
        f.attrs["lens"] = np.array([np.arange(3), np.arange(1)], dtype=dt)
    with shim.File(tmp_path / "v.zarr", "r") as f:
        ds = f["seq"]
        assert shim.check_vlen_dtype(ds.dtype) == np.dtype("<i2")
        assert ds.fillvalue.dtype == np.dtype("<i2") and ds.fillvalue.size == 0
        got = ds[...]
        assert got.shape == (2, 2) and got[0, 0].dtype == np.dtype("<i2")
        assert [a.tolist() for a in got.reshape(-1)] == [[1, 2, 3], [], [0, 1], []]
        lens = f.attrs["lens"]
        assert [a.tolist() for a in lens] == [[0, 1, 2], [0]]


@pytest.mark.parametrize("fmt", [2, 3])
def test_compounds_with_variable_length_fields_round_trip(tmp_path: Path, fmt: int) -> None:
    dt = np.dtype([("name", shim.string_dtype()), ("hits", shim.vlen_dtype(np.int32)), ("x", "<f8", (2,))])
    data = np.empty(3, dtype=dt)
    data[0] = (b"a", np.array([1, 2], dtype=np.int32), (0.5, 1.5))
    data[1] = ("bé".encode(), np.array([], dtype=np.int32), (2.0, 3.0))
    data[2] = (b"", np.array([7], dtype=np.int32), (0.0, -1.0))
    with shim.File(tmp_path / "c.zarr", "w", zarr_format=fmt) as f:
        f["c"] = data
        f.create_dataset("blank", (2,), dtype=dt)
        f.attrs["one"] = data[1]
    with shim.File(tmp_path / "c.zarr", "r") as f:
        got = f["c"][...]
        assert f["c"].dtype == dt and shim.check_vlen_dtype(f["c"].dtype["hits"]) == np.dtype(np.int32)
        assert got["name"].tolist() == [b"a", "bé".encode(), b""]
        assert [h.tolist() for h in got["hits"]] == [[1, 2], [], [7]]
        assert got["x"].tolist() == [[0.5, 1.5], [2.0, 3.0], [0.0, -1.0]]
        blank = f["blank"][0]
        assert blank["name"] == b"" and blank["hits"].size == 0 and blank["x"].tolist() == [0.0, 0.0]
        fill = f["blank"].fillvalue
        assert fill["name"] == b"" and fill["hits"].dtype == np.int32 and fill["hits"].size == 0
        one = f.attrs["one"]
        assert one["name"] == "bé".encode() and one["hits"].size == 0
    stored = zarr.open_array(str(tmp_path / "c.zarr" / "c"), mode="r")
    assert all(isinstance(v, bytes) for v in stored[...].tolist())  # other readers see one bytes per element


def test_a_dataset_from_a_shape_alone_warns_as_h5py(tmp_path: Path) -> None:
    with shim.File(tmp_path / "w.zarr", "w") as f:
        with pytest.warns(H5pyDeprecationWarning, match="without passing data or dtype"):
            ds = f.create_dataset("x", (5,))
        assert ds.dtype == np.dtype("f4")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f.create_dataset("y", (5,), dtype="i2")
    assert issubclass(H5pyDeprecationWarning, H5pyWarning)


def test_userblock_size_is_remembered_and_must_match(tmp_path: Path) -> None:
    path = tmp_path / "u.zarr"
    shim.File(path, "w", userblock_size=1024).close()
    with pytest.raises(ValueError, match="User block size must match"):
        shim.File(path, "a", userblock_size=512)
    with shim.File(path, "a", userblock_size=1024) as f:
        assert f.userblock_size == 1024
    with shim.File(path, "r") as f:
        assert f.userblock_size == 1024
    with shim.File(tmp_path / "plain.zarr", "w") as f:
        assert f.userblock_size == 0


def test_anonymous_datasets_live_in_memory_while_the_file_is_open(tmp_path: Path) -> None:
    f = shim.File(tmp_path / "a.zarr", "w")
    ds = f.create_dataset(None, data=np.arange(4, dtype="<i4"))
    assert ds.name is None and repr(ds) == '<HDF5 dataset (anonymous): shape (4,), type "<i4">'
    ds[1] = 9
    assert ds[...].tolist() == [0, 9, 2, 3] and ds.file == f
    assert list(f) == []  # never linked into the file
    f.close()
    assert not ds.id.valid
    with shim.File(tmp_path / "a.zarr", "r") as f:
        assert list(f) == []
        with pytest.raises(ValueError, match="no write intent"):
            f.create_dataset(None, data=[1])


@pytest.mark.parametrize(("libver", "bounds"), [
    (None, ("earliest", "v200")), ("latest", ("v200", "v200")), ("v110", ("v110", "v200")),
    (("earliest", "v108"), ("earliest", "v108")),
])
def test_libver_is_reported_as_h5py_does(tmp_path: Path, libver: object, bounds: tuple[str, str]) -> None:
    with shim.File(tmp_path / "l.zarr", "w", libver=libver) as f:
        assert f.libver == bounds and f["/"].file.libver == bounds


def test_an_unknown_libver_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="v999"):
        shim.File(tmp_path / "l.zarr", "w", libver="v999")
    assert not (tmp_path / "l.zarr").exists()


def test_page_buffering_needs_the_page_strategy_as_in_h5py(tmp_path: Path) -> None:
    with shim.File(tmp_path / "p.zarr", "w", fs_strategy="page", page_buf_size=16 * 1024) as f:
        assert f.mode == "r+"
    with pytest.raises(OSError, match="fs_strategy='page'"):
        shim.File(tmp_path / "q.zarr", "w", fs_strategy="fsm", page_buf_size=16 * 1024)
    assert not (tmp_path / "q.zarr").exists()

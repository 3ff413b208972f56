"""zarr-python 2's own store objects, handed to zarrlayered as they are (and ours handed to zarr-python 2).

zarr-python 2.18 lives in its own virtualenv (it shares the import name ``zarr``), and its store objects
cannot cross processes, so the snippet below runs *our* package inside that virtualenv: zarrlayered is pure
Python; the zarr 2 environment's numpy and numcodecs come first on ``sys.path``, our other dependencies
(donfig, zict, cachetools, fsspec, crc32c) come from our virtualenv after them.

For each zarr 2 store (dict, KVStore, MemoryStore, DirectoryStore, NestedDirectoryStore, FSStore, ZipStore,
SQLiteStore, DBMStore, LMDBStore, LRUStoreCache, a user's MutableMapping): zarr 2 writes a group with
attributes, a numeric array and a vlen-utf8 object array; zarrlayered opens the very same store object,
reads all of it, writes a region, a new string array and attributes; zarr 2 reads back what we wrote. Then,
in this process, the persistent stores' files are opened with our own stores (or with sqlite3, dbm, lmdb
through a small mapping) and must hold the same. The other direction: zarr 2 writes through
:class:`StoreMapping` views of our stores. Plus zarr 2's chunk_store and synchronizers with our arrays.
"""

from __future__ import annotations

import dbm.dumb
import json
import sqlite3
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zarr2_env import run_zarr2

import zarrlayered
from zarrlayered.stores import LocalStore, MappingStore, ZipStore

ROOT = Path(__file__).resolve().parents[2]
STRINGS = ["", "a", "héllo", "日本語", "x" * 30, "z", "0", "ümlaut", "last"]
NEW_STRINGS = ["ours", "", "ñ", "🙂", "tail"]
ZARR2_KINDS = [
    "dict", "KVStore", "MemoryStore", "DirectoryStore", "NestedDirectoryStore", "FSStore", "ZipStore",
    "SQLiteStore", "DBMStore", "LMDBStore", "LRUStoreCache", "custom",
]
OUR_KINDS = ["LocalStore", "ZipStore", "FsspecStore-file", "FsspecStore-memory", "LRUStoreCache"]

SCRIPT = r'''
import sys, json, os, traceback, warnings, collections.abc
sys.path.append(@ROOT@)
sys.path.append(@SITE@)
warnings.simplefilter("ignore")
import numpy as np, numcodecs, zarr
assert zarr.__version__.startswith("2.18"), zarr.__version__
import zarrlayered
from zarrlayered.compat.mapping import StoreMapping
from zarrlayered.stores import FsspecStore, LocalStore, LRUStoreCache, ZipStore
assert zarrlayered.__file__.startswith(@ROOT@)
S = zarr.storage

STRINGS, NEW_STRINGS = @STRINGS@, @NEW_STRINGS@
A = np.arange(70, dtype="<i4").reshape(10, 7)
EDIT = 1000 + np.arange(15, dtype="<i4").reshape(3, 5)
A_AFTER = A.copy()
A_AFTER[2:5, 1:6] = EDIT


class Custom(collections.abc.MutableMapping):
    def __init__(self): self.d = {}
    def __getitem__(self, k): return self.d[k]
    def __setitem__(self, k, v): self.d[k] = bytes(v)
    def __delitem__(self, k): del self.d[k]
    def __iter__(self): return iter(list(self.d))
    def __len__(self): return len(self.d)


def make(kind):
    return {
        "dict": lambda: {},
        "KVStore": lambda: S.KVStore({}),
        "MemoryStore": lambda: S.MemoryStore(),
        "DirectoryStore": lambda: S.DirectoryStore("DirectoryStore"),
        "NestedDirectoryStore": lambda: S.NestedDirectoryStore("NestedDirectoryStore"),
        "FSStore": lambda: S.FSStore("FSStore"),
        "ZipStore": lambda: S.ZipStore("ZipStore.zip", mode="w"),
        "SQLiteStore": lambda: S.SQLiteStore("SQLiteStore.sqlite"),
        "DBMStore": lambda: S.DBMStore("DBMStore.dbm"),
        "LMDBStore": lambda: S.LMDBStore("LMDBStore.lmdb"),
        "LRUStoreCache": lambda: S.LRUStoreCache(S.DirectoryStore("LRUStoreCache"), max_size=2**20),
        "custom": Custom,
    }[kind]()


def zarr2_writes(store, title):
    root = zarr.group(store=store)
    root.attrs["title"] = title
    a = root.create_dataset("a", shape=(10, 7), chunks=(3, 4), dtype="<i4", fill_value=-1)
    a[:] = A
    a.attrs["unit"] = "m"
    s = root.create_dataset("s", shape=(9,), chunks=(4,), dtype=object, object_codec=numcodecs.VLenUTF8())
    s[:] = np.array(STRINGS, dtype=object)


def we_read_and_write(store, title, overwrite):
    ours = zarrlayered.open_group(store, mode="r+")
    assert ours.attrs["title"] == title, ours.attrs
    assert ours["a"].attrs["unit"] == "m"
    np.testing.assert_array_equal(ours["a"][:], A)
    assert ours["s"][:].tolist() == STRINGS, ours["s"][:]
    if overwrite:  # a zip archive cannot replace a member: zarr 2 itself only appends to one
        ours["a"][2:5, 1:6] = EDIT
        ours["a"].attrs["edited_by"] = "zarrlayered"
    t = ours.create_array("t", shape=(5,), chunks=(2,), dtype=str, attributes={"lang": "many"})
    t[:] = NEW_STRINGS


def zarr2_reads_back(store, title, overwrite):
    z = zarr.open_group(store, mode="r")
    assert z.attrs["title"] == title
    np.testing.assert_array_equal(z["a"][:], A_AFTER if overwrite else A)
    assert z["a"].attrs.asdict() == ({"unit": "m", "edited_by": "zarrlayered"} if overwrite else {"unit": "m"})
    assert z["s"][:].tolist() == STRINGS
    assert z["t"].dtype == object and z["t"].filters[0].codec_id == "vlen-utf8", z["t"].filters
    assert z["t"][:].tolist() == NEW_STRINGS
    assert z["t"].attrs.asdict() == {"lang": "many"}


results = {}
for kind in @ZARR2_KINDS@:
    store = None
    try:
        store = make(kind)
        overwrite = kind != "ZipStore"
        zarr2_writes(store, kind)
        we_read_and_write(store, kind, overwrite)
        zarr2_reads_back(store, kind, overwrite)
        results[kind] = "ok"
    except Exception:
        results[kind] = traceback.format_exc()
    finally:
        if hasattr(store, "close"):
            store.close()

# the other direction: zarr 2 writes through StoreMapping views of our stores
for kind in @OUR_KINDS@:
    ours = None
    try:
        ours = {
            "LocalStore": lambda: LocalStore("ours-LocalStore"),
            "ZipStore": lambda: ZipStore("ours-ZipStore.zip", mode="w"),
            "FsspecStore-file": lambda: FsspecStore.from_url("file://" + os.getcwd() + "/ours-FsspecStore-file"),
            "FsspecStore-memory": lambda: FsspecStore.from_url("memory://ours-FsspecStore-memory"),
            "LRUStoreCache": lambda: LRUStoreCache(LocalStore("ours-LRUStoreCache"), max_size=2**20),
        }[kind]()
        mapping = StoreMapping(ours)
        zarr2_writes(mapping, kind)
        z = zarr.open_group(mapping, mode="r")
        np.testing.assert_array_equal(z["a"][:], A)
        assert z["s"][:].tolist() == STRINGS
        mine = zarrlayered.open_group(ours, mode="r")
        np.testing.assert_array_equal(mine["a"][:], A)
        assert mine["s"][:].tolist() == STRINGS and mine.attrs["title"] == kind
        results["ours:" + kind] = "ok"
    except Exception:
        results["ours:" + kind] = traceback.format_exc()
    finally:
        if ours is not None:
            ours.close()

# zarr 2's chunk_store: metadata in one store, chunks in another
try:
    meta, chunks = S.DirectoryStore("cs-meta"), S.DirectoryStore("cs-chunks")
    z = zarr.create(shape=(6, 6), chunks=(4, 4), dtype="<f8", store=meta, chunk_store=chunks, fill_value=0)
    z[:] = np.arange(36.0).reshape(6, 6)
    ours = zarrlayered.open_array(meta, mode="r+", chunk_store=chunks)
    np.testing.assert_array_equal(ours[:], np.arange(36.0).reshape(6, 6))
    ours[1:3, 1:5] = -1
    back = zarr.open_array(meta, mode="r", chunk_store=chunks)
    expected = np.arange(36.0).reshape(6, 6)
    expected[1:3, 1:5] = -1
    np.testing.assert_array_equal(back[:], expected)
    assert sorted(meta.keys()) == [".zarray"], list(meta.keys())
    results["chunk_store"] = "ok"
except Exception:
    results["chunk_store"] = traceback.format_exc()

# zarr 2's synchronizers drive our chunk locks
try:
    for name, synchronizer in [("thread", zarr.ThreadSynchronizer()), ("process", zarr.ProcessSynchronizer("locks"))]:
        arr = zarrlayered.create_array({}, shape=(12,), chunks=(5,), dtype="i2", fill_value=0,
                                       synchronizer=synchronizer)
        arr[1:11:2] = 7
        assert arr[:].tolist() == [0, 7] * 5 + [0, 0], (name, arr[:])
    assert sorted(os.listdir("locks")) == ["c"], os.listdir("locks")
    results["synchronizers"] = "ok"
except Exception:
    results["synchronizers"] = traceback.format_exc()

print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def zarr2_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Run the snippet once (a few seconds); returns its directory and each case's outcome."""
    where = tmp_path_factory.mktemp("zarr2-stores")
    code = (
        SCRIPT.replace("@ROOT@", repr(str(ROOT)))
        .replace("@SITE@", repr(sysconfig.get_paths()["purelib"]))
        .replace("@STRINGS@", repr(STRINGS))
        .replace("@NEW_STRINGS@", repr(NEW_STRINGS))
        .replace("@ZARR2_KINDS@", json.dumps(ZARR2_KINDS))
        .replace("@OUR_KINDS@", json.dumps(OUR_KINDS))
    )
    out = run_zarr2(code, where)
    return where, json.loads(out.strip().splitlines()[-1])


def _outcome(results: dict[str, str], case: str) -> None:
    assert case in results, f"the snippet did not run case {case!r}"
    assert results[case] == "ok", f"{case} failed inside the zarr-python 2 environment:\n{results[case]}"


@pytest.mark.parametrize("kind", ZARR2_KINDS)
def test_zarr2_store_objects_work_unchanged(zarr2_run: tuple[Path, dict[str, str]], kind: str) -> None:
    _outcome(zarr2_run[1], kind)


@pytest.mark.parametrize("kind", OUR_KINDS)
def test_zarr2_writes_through_our_stores(zarr2_run: tuple[Path, dict[str, str]], kind: str) -> None:
    _outcome(zarr2_run[1], f"ours:{kind}")
    where = zarr2_run[0]
    if kind in ("LocalStore", "FsspecStore-file", "LRUStoreCache"):  # on disk: read again from this process
        group = zarrlayered.open_group(LocalStore(where / f"ours-{kind}", read_only=True), mode="r")
        assert group["s"][:].tolist() == STRINGS
    elif kind == "ZipStore":
        with ZipStore(where / "ours-ZipStore.zip", mode="r") as store:
            assert zarrlayered.open_group(store, mode="r")["s"][:].tolist() == STRINGS


def test_zarr2_chunk_store_with_ours(zarr2_run: tuple[Path, dict[str, str]]) -> None:
    _outcome(zarr2_run[1], "chunk_store")
    where = zarr2_run[0]
    arr = zarrlayered.open_array(where / "cs-meta", mode="r", chunk_store=where / "cs-chunks")
    assert arr[1, 1] == -1 and arr[5, 5] == 35


def test_zarr2_synchronizers_drive_our_locks(zarr2_run: tuple[Path, dict[str, str]]) -> None:
    _outcome(zarr2_run[1], "synchronizers")


# -- the files zarr 2 and we wrote, opened from this process with our own stores --------------------------
class SQLiteMapping:
    """zarr 2's SQLiteStore table (k TEXT PRIMARY KEY, v BLOB) as a mapping."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)

    def __getitem__(self, key: str) -> bytes:
        row = self.db.execute("SELECT v FROM zarr WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: str, value: bytes) -> None:
        self.db.execute("REPLACE INTO zarr VALUES (?, ?)", (key, value))

    def __delitem__(self, key: str) -> None:
        self.db.execute("DELETE FROM zarr WHERE k = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self.db.execute("SELECT k FROM zarr")])

    def close(self) -> None:
        self.db.close()


class LMDBMapping:
    """An LMDB environment (zarr 2's LMDBStore) as a read-only mapping."""

    def __init__(self, path: Path) -> None:
        lmdb = pytest.importorskip("lmdb")
        self.env = lmdb.open(str(path), readonly=True, lock=False, subdir=True)

    def __getitem__(self, key: str) -> bytes:
        with self.env.begin() as txn:
            value = txn.get(key.encode())
        if value is None:
            raise KeyError(key)
        return bytes(value)

    def __setitem__(self, key: str, value: bytes) -> None:
        raise PermissionError("read only")

    def __delitem__(self, key: str) -> None:
        raise PermissionError("read only")

    def __iter__(self) -> Iterator[str]:
        with self.env.begin() as txn:
            return iter([k.decode() for k in txn.cursor().iternext(values=False)])

    def close(self) -> None:
        self.env.close()


def _native_store(kind: str, where: Path) -> Any:
    if kind in ("DirectoryStore", "NestedDirectoryStore", "FSStore", "LRUStoreCache"):
        return LocalStore(where / kind, read_only=True)
    if kind == "ZipStore":
        return ZipStore(where / "ZipStore.zip", mode="r")
    if kind == "SQLiteStore":
        return MappingStore(SQLiteMapping(where / "SQLiteStore.sqlite"), read_only=True)
    if kind == "DBMStore":
        return MappingStore(dbm.dumb.open(str(where / "DBMStore.dbm"), "r"), read_only=True)
    return MappingStore(LMDBMapping(where / "LMDBStore.lmdb"), read_only=True)


@pytest.mark.parametrize(
    "kind",
    ["DirectoryStore", "NestedDirectoryStore", "FSStore", "ZipStore", "SQLiteStore", "DBMStore", "LMDBStore",
     "LRUStoreCache"],
)
def test_persistent_zarr2_stores_hold_both_writers_data(zarr2_run: tuple[Path, dict[str, str]], kind: str) -> None:
    _outcome(zarr2_run[1], kind)
    store = _native_store(kind, zarr2_run[0])
    try:
        group = zarrlayered.open_group(store, mode="r")
        assert group.attrs["title"] == kind
        expected = np.arange(70, dtype="<i4").reshape(10, 7)
        if kind != "ZipStore":
            expected[2:5, 1:6] = 1000 + np.arange(15, dtype="<i4").reshape(3, 5)
        np.testing.assert_array_equal(group["a"][:], expected)
        assert group["s"][:].tolist() == STRINGS
        assert group["t"][:].tolist() == NEW_STRINGS and group["t"].attrs["lang"] == "many"
    finally:
        store.close()
        mapping = getattr(store, "mapping", None)
        if hasattr(mapping, "close"):
            mapping.close()

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import fsspec
import pytest
import s3_server as s3
from fsspec.implementations.memory import MemoryFileSystem

from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores.abc import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarrlayered.stores.fsspec import FsspecStore, FsspecStoreError, _aiohttp_sessions
from zarrlayered.testing import StoreTests
from zarrlayered.testing.store import keys_of


def _memory_url() -> str:
    return f"memory://zarrlayered-tests/{uuid.uuid4().hex}"


def _forget_memory(url: str) -> None:
    fs = fsspec.filesystem("memory")
    if fs.exists(url):
        fs.rm(url, recursive=True)


# -- the store contract over three filesystems -------------------------------------------------------------
class TestFsspecMemory(StoreTests):
    @pytest.fixture(autouse=True)
    def _memory_cleanup(self) -> Any:
        self.urls: list[str] = []
        yield
        for url in self.urls:
            _forget_memory(url)

    def make_store(self, tmp_path: Path) -> FsspecStore:
        url = _memory_url()
        self.urls.append(url)
        return FsspecStore.from_url(url)

    def reopen(self, store: FsspecStore) -> FsspecStore:
        store.close()
        return FsspecStore.from_url(self.urls[-1])


class TestFsspecLocal(StoreTests):
    def make_store(self, tmp_path: Path) -> FsspecStore:
        self.url = f"file://{tmp_path}/store"
        return FsspecStore.from_url(self.url)

    def reopen(self, store: FsspecStore) -> FsspecStore:
        store.close()
        return FsspecStore.from_url(self.url)


class TestFsspecS3(StoreTests):
    @pytest.fixture(autouse=True)
    def _bucket(self, s3_bucket: tuple[str, dict[str, Any]]) -> None:
        self.url = f"{s3_bucket[0]}/root"
        self.options = s3_bucket[1]

    def make_store(self, tmp_path: Path) -> FsspecStore:
        return FsspecStore.from_url(self.url, storage_options=self.options)

    def reopen(self, store: FsspecStore) -> FsspecStore:
        store.close()
        return FsspecStore.from_url(self.url, storage_options=self.options)


# -- S3 specifics ----------------------------------------------------------------------------------------
async def test_s3_byte_ranges_fetch_only_the_requested_bytes(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    shard = bytes(range(256)) * 4096  # 1 MiB: chunks, then a 16-byte index at the end
    async with FsspecStore.from_url(f"{url}/array", storage_options=options) as store:
        await store.set("c/0", shard)
        fs = store.fs_for_running_loop()
        await fs.set_session()
        seen: list[tuple[str | None, int]] = []

        def record(http_response: Any, **kwargs: Any) -> None:
            headers = http_response.headers
            seen.append((headers.get("content-range"), int(headers["content-length"])))

        fs.s3.meta.events.register("after-call.s3.GetObject", record)
        got = await store.get_partial_values(
            [
                ("c/0", SuffixByteRequest(16)),
                ("c/0", RangeByteRequest(4096, 4096 + 300)),
                ("c/0", OffsetByteRequest(len(shard) - 10)),
            ]
        )
    assert got == [shard[-16:], shard[4096:4396], shard[-10:]]
    size = len(shard)
    assert sorted(seen) == sorted(
        [
            (f"bytes {size - 16}-{size - 1}/{size}", 16),
            (f"bytes 4096-4395/{size}", 300),
            (f"bytes {size - 10}-{size - 1}/{size}", 10),
        ]
    )


def test_unreachable_s3_endpoint_raises_oserror(s3_server: str) -> None:
    endpoint = f"http://127.0.0.1:{s3.closed_port()}"
    options = s3.storage_options(endpoint, config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1})
    store = FsspecStore.from_url("s3://no-server/root", storage_options=options)
    try:
        with pytest.raises(OSError, match="'c/0'") as info:
            sync(store.get("c/0"))
        assert isinstance(info.value, FsspecStoreError)
        assert type(info.value.__cause__).__module__.startswith("botocore")
        assert "EndpointConnectionError" in str(info.value)
        with pytest.raises(OSError, match=r"'zarr\.json'"):
            sync(store.set("zarr.json", b"{}"))
    finally:
        store.close()


def test_range_past_the_end_is_empty_on_s3(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    with FsspecStore.from_url(f"{url}/r", storage_options=options) as store:
        sync(store.set("k", b"0123456789"))
        assert sync(store.get("k", RangeByteRequest(20, 30))) == b""
        assert sync(store.get("k", OffsetByteRequest(10))) == b""
        assert sync(store.get("missing", OffsetByteRequest(10))) is None


async def test_simplecache_chained_over_s3(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    async with FsspecStore.from_url(f"{url}/cached", storage_options=options) as plain:
        await plain.set("a/c/0", b"0123456789")
        await plain.set("zarr.json", b"{}")
    chained = FsspecStore.from_url(f"simplecache::{url}/cached", storage_options={"s3": options})
    async with chained:
        assert chained.read_only is False
        assert await chained.get("a/c/0") == b"0123456789"
        assert await chained.get_partial_values(
            [("a/c/0", RangeByteRequest(2, 5)), ("a/c/0", SuffixByteRequest(2)), ("nope", None)]
        ) == [b"234", b"89", None]
        assert sorted([key async for key in chained.list()]) == ["a/c/0", "zarr.json"]
        assert sorted([key async for key in chained.list_dir("")]) == ["a", "zarr.json"]
        assert await chained.getsize("a/c/0") == 10
        await chained.set("written/through", b"cache")
        loop_fs = chained.fs_for_running_loop()
        sessions = _aiohttp_sessions(loop_fs)
        assert sessions
    assert all(session.closed for session in sessions)
    with FsspecStore.from_url(f"{url}/cached", storage_options=options) as plain:
        assert sync(plain.get("written/through")) == b"cache"


# -- zip archives ------------------------------------------------------------------------------------------
def test_zip_url_is_readable_and_refuses_writes(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zarr.json", b'{"zarr_format": 3}')
        zf.writestr("a/zarr.json", b"{}")
        zf.writestr("a/c/0/0", bytes(range(100)))
    before = archive.read_bytes()
    with FsspecStore.from_url(f"zip::file://{archive}") as store:
        assert store.read_only is True
        assert keys_of(store.list()) == ["a/c/0/0", "a/zarr.json", "zarr.json"]
        assert keys_of(store.list_dir("")) == ["a", "zarr.json"]
        assert keys_of(store.list_dir("a/c")) == ["0"]
        assert sync(store.get("zarr.json")) == b'{"zarr_format": 3}'
        assert sync(store.get("a/c/0/0", RangeByteRequest(10, 20))) == bytes(range(10, 20))
        assert sync(store.get("a/c/0/0", SuffixByteRequest(5))) == bytes(range(95, 100))
        assert sync(store.get("a/missing")) is None
        assert sync(store.getsize("a/c/0/0")) == 100
        with pytest.raises(ReadOnlyError):
            sync(store.set("new", b"x"))
        with pytest.raises(ReadOnlyError):
            sync(store.delete("zarr.json"))
        with pytest.raises(ReadOnlyError):
            store.with_read_only(False)
    assert archive.read_bytes() == before


def test_http_store_is_read_only() -> None:
    store = FsspecStore.from_url(f"http://127.0.0.1:{s3.closed_port()}/data.zarr")
    assert store.read_only is True
    with pytest.raises(ReadOnlyError):
        sync(store.set("zarr.json", b"{}"))
    store.close()


# -- event loops -------------------------------------------------------------------------------------------
async def test_awaited_on_the_callers_loop_and_through_sync(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    async with FsspecStore.from_url(f"{url}/loops", storage_options=options) as store:
        await store.set("a/zarr.json", b"{}")  # on this test's loop
        sync(store.set("a/c/0", b"chunk"))  # on the library's IO loop
        assert await store.get("a/c/0") == b"chunk"
        assert sync(store.get("a/zarr.json")) == b"{}"
        assert sorted([key async for key in store.list()]) == ["a/c/0", "a/zarr.json"]
        values = await asyncio.gather(*(store.get("a/c/0", RangeByteRequest(i, i + 1)) for i in range(5)))
        assert values == [b"c", b"h", b"u", b"n", b"k"]

        async def io_loop_fs() -> Any:
            return store.fs_for_running_loop()

        here, there = store.fs_for_running_loop(), sync(io_loop_fs())
        assert here is not there
        assert here.asynchronous and there.asynchronous


async def test_blocking_filesystem_awaited_on_the_callers_loop() -> None:
    url = _memory_url()
    try:
        async with FsspecStore.from_url(url) as store:
            await asyncio.gather(*(store.set(f"c/{i}", b"%d" % i) for i in range(50)))
            assert await store.get("c/7") == b"7"
            assert len([key async for key in store.list_prefix("c/")]) == 50
            assert store.fs_for_running_loop() is store.fs
    finally:
        _forget_memory(url)


def test_loops_that_closed_are_released(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    store = FsspecStore.from_url(f"{url}/p", storage_options=options)
    try:

        async def set_and_get_fs() -> Any:
            await store.set("k", b"v")
            return store.fs_for_running_loop()

        first = asyncio.new_event_loop()
        first_fs = first.run_until_complete(set_and_get_fs())
        first.close()  # closed without closing the store: its sessions are released on the next new loop
        sessions = _aiohttp_sessions(first_fs)
        assert sessions and not any(session.closed for session in sessions)
        second = asyncio.new_event_loop()
        try:
            assert second.run_until_complete(store.get("k")) == b"v"
            assert first not in store._loop_fs
            assert all(session.closed for session in sessions)
        finally:
            second.run_until_complete(store.aclose())
            second.close()
        assert len(store._loop_fs) == 0
    finally:
        store.close()


# -- identity, pickling ------------------------------------------------------------------------------------
def test_equality(tmp_path: Path) -> None:
    a = FsspecStore.from_url(f"file://{tmp_path}/x")
    assert a == FsspecStore.from_url(f"file://{tmp_path}/x/")
    assert a == FsspecStore(fsspec.filesystem("file"), str(tmp_path / "x"))
    assert a != FsspecStore.from_url(f"file://{tmp_path}/y")
    assert a != a.with_read_only(True)
    assert a != FsspecStore.from_url("memory://x")
    assert hash(a) == hash(FsspecStore.from_url(f"file://{tmp_path}/x"))


def test_constructor_checks_arguments() -> None:
    with pytest.raises(TypeError, match="AbstractFileSystem"):
        FsspecStore({}, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path"):
        FsspecStore(fsspec.filesystem("memory"), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="storage_options"):
        FsspecStore.from_url("memory://x", storage_options=[("a", 1)])  # type: ignore[arg-type]


def test_pickle_round_trip_in_a_fresh_process(s3_bucket: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    url, options = s3_bucket
    store = FsspecStore.from_url(f"{url}/pickled", storage_options=options)
    sync(store.set("zarr.json", b'{"zarr_format": 3}'))
    clone = pickle.loads(pickle.dumps(store))
    assert clone == store
    assert sync(clone.get("zarr.json")) == b'{"zarr_format": 3}'
    (tmp_path / "store.pickle").write_bytes(pickle.dumps(store))
    store.close()
    clone.close()
    script = (
        "import pickle, sys\n"
        "from zarrlayered.core.sync import sync\n"
        "store = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "sync(store.set('c/0', b'written by a fresh process'))\n"
        "sys.stdout.write(sync(store.get('zarr.json')).decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "store.pickle")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"zarr_format": 3}'
    with FsspecStore.from_url(f"{url}/pickled", storage_options=options) as again:
        assert sync(again.get("c/0")) == b"written by a fresh process"


# -- a filesystem without suffix reads ----------------------------------------------------------------------
class _NoSuffixMemoryFileSystem(MemoryFileSystem):
    """A real in-memory filesystem that, like some object stores, cannot read "the last n bytes"."""

    protocol = ("nosuffixmemory",)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        if start is not None and start < 0:
            raise ValueError("negative start is not supported")
        return bytes(super().cat_file(path, start=start, end=end, **kwargs))


def test_suffix_read_falls_back_to_the_size() -> None:
    fs = _NoSuffixMemoryFileSystem(skip_instance_cache=True)
    url = _memory_url()
    root = url.removeprefix("memory://")
    store = FsspecStore(fs, root)
    try:
        sync(store.set("k", b"0123456789"))
        assert sync(store.get("k", SuffixByteRequest(3))) == b"789"
        assert sync(store.get("k", SuffixByteRequest(30))) == b"0123456789"
        assert sync(store.get("missing", SuffixByteRequest(3))) is None
    finally:
        _forget_memory(url)

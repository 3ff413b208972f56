"""Cloud URLs end to end: the public API (``open_group``, ``open_array``, xarray's ``engine="zarrlayered"``)
on ``s3://`` (moto's real S3 server on loopback), ``gs://`` (routing and the missing-package error, no
network) and ``http(s)://`` (a loopback ``http.server`` with byte ranges, over TLS too), with fsspec's
``simplecache::``/``blockcache::`` chained in front.

The store-level contract over S3, byte ranges of ``FsspecStore.get_partial_values``, ``simplecache::``
writes, zip URLs and pickling are in ``test_fsspec.py``; here requests are counted on the server side:
moto logs each request through werkzeug's logger, the HTTP server of this module records them.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import io
import logging
import re
import shutil
import ssl
import subprocess
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

import zarrlayered
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores.fsspec import FsspecStore
from zarrlayered.stores.logging import LoggingStore
from zarrlayered.stores.make import make_store

# -- requests as the S3 server saw them -------------------------------------------------------------------
_REQUEST_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


@dataclass(frozen=True)
class Request:
    """One request a server answered."""

    method: str
    path: str
    status: int


def s3_requests(records: list[logging.LogRecord], bucket: str) -> list[Request]:
    """The requests to ``bucket`` in moto's werkzeug access log (``"GET /bucket/key HTTP/1.1" 206``)."""
    found = []
    for record in records:
        if record.name != "werkzeug":
            continue
        match = _REQUEST_LINE.search(record.getMessage())
        if match and match.group(2).startswith(f"/{bucket}"):
            found.append(Request(match.group(1), match.group(2), int(match.group(3))))
    return found


@pytest.fixture
def s3_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture moto's access log (werkzeug logs every request at INFO)."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        yield caplog


def _bucket(url: str) -> str:
    return url.removeprefix("s3://").split("/", 1)[0]


def _sharded(group: zarrlayered.Group, name: str = "sharded") -> tuple[zarrlayered.Array, np.ndarray[Any, Any]]:
    """A 64x64 float64 array in shards of 32x32 holding 16 inner chunks of 8x8, uncompressed."""
    data = np.arange(64 * 64, dtype="f8").reshape(64, 64)
    array = group.create_array(name, shape=data.shape, chunks=(8, 8), shards=(32, 32), dtype="f8",
                               compressors=None)
    array[...] = data
    return array, data


#: Bytes one inner chunk of :func:`_sharded` reads: the chunk, and the shard index at the end of the shard
#: (16 entries of two uint64, then a crc32c).
_ONE_INNER_CHUNK = 8 * 8 * 8 + 16 * 16 + 4


def _write_hierarchy(url: str, options: dict[str, Any], zarr_format: int) -> np.ndarray[Any, Any]:
    """Write (through one store: each new S3 store makes a new client) a consolidated hierarchy."""
    with make_store(url, storage_options=options) as store:
        root = zarrlayered.open_group(store, mode="w", zarr_format=zarr_format, attributes={"title": "on s3"})
        sub = root.create_group("sub", attributes={"level": 1})
        sub.create_array("values", shape=(5,), chunks=(2,), dtype="i4", fill_value=-1)[:3] = [1, 2, 3]
        if zarr_format == 3:
            _, data = _sharded(root)
        else:
            data = np.arange(64 * 64, dtype="f8").reshape(64, 64)
            root.create_array("sharded", shape=data.shape, chunks=(32, 32), dtype="f8")[...] = data
        zarrlayered.consolidate_metadata(store)
    return data


# -- s3:// ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_hierarchy_through_s3_urls(s3_bucket: tuple[str, dict[str, Any]], s3_log: pytest.LogCaptureFixture,
                                   zarr_format: int) -> None:
    prefix, options = s3_bucket
    url = f"{prefix}/data.zarr"
    data = _write_hierarchy(url, options, zarr_format)
    root = zarrlayered.open_group(url, mode="r", storage_options=options)
    assert root.read_only and dict(root.attrs) == {"title": "on s3"}
    assert [name for name, _ in root.members(max_depth=None)] == ["sharded", "sub", "sub/values"]
    assert root["sub/values"][:].tolist() == [1, 2, 3, -1, -1]
    np.testing.assert_array_equal(root["sharded"][5:40, 30:33], data[5:40, 30:33])
    values = zarrlayered.open_array(url, path="sub/values", mode="r", storage_options=options)
    assert values.fill_value == -1
    # without consolidated metadata the members are found by listing the bucket
    s3_log.clear()
    plain = zarrlayered.open_group(url, mode="r", storage_options=options, use_consolidated=False)
    assert sorted(plain.group_keys()) == ["sub"] and sorted(plain.array_keys()) == ["sharded"]
    requests = s3_requests(s3_log.records, _bucket(prefix))
    assert any("list-type=2" in request.path for request in requests)


@pytest.mark.parametrize("zarr_format", [3, None])
def test_opening_a_consolidated_group_is_one_request(s3_bucket: tuple[str, dict[str, Any]],
                                                     s3_log: pytest.LogCaptureFixture,
                                                     zarr_format: Literal[3] | None) -> None:
    prefix, options = s3_bucket
    url = f"{prefix}/data.zarr"
    _write_hierarchy(url, options, 3)
    bucket = _bucket(prefix)
    s3_log.clear()
    # zarr.json is asked for first and wins over V2 documents, so the format need not be given
    root = zarrlayered.open_group(url, mode="r", storage_options=options, zarr_format=zarr_format)
    assert s3_requests(s3_log.records, bucket) == [Request("GET", f"/{bucket}/data.zarr/zarr.json", 200)]
    s3_log.clear()
    members = dict(root.members(max_depth=None))  # every node's metadata came with the root's
    assert members["sharded"].shape == (64, 64) and dict(members["sub"].attrs) == {"level": 1}
    assert s3_requests(s3_log.records, bucket) == []


def test_opening_a_consolidated_v2_group(s3_bucket: tuple[str, dict[str, Any]],
                                         s3_log: pytest.LogCaptureFixture) -> None:
    prefix, options = s3_bucket
    url = f"{prefix}/data.zarr"
    _write_hierarchy(url, options, 2)
    bucket = _bucket(prefix)

    def paths() -> list[str]:
        return sorted(r.path.removeprefix(f"/{bucket}/data.zarr/") for r in s3_requests(s3_log.records, bucket))

    s3_log.clear()  # zarr 2's open_consolidated: the .zmetadata document alone answers
    root = zarrlayered.open_consolidated(url, mode="r", storage_options=options, zarr_format=2)
    assert paths() == [".zmetadata"]
    s3_log.clear()
    assert dict(root["sub"].attrs) == {"level": 1} and root["sub/values"].shape == (5,)
    assert paths() == []
    s3_log.clear()  # format not given: zarr.json first, then the V2 documents and .zmetadata in one round trip
    assert dict(zarrlayered.open_group(url, mode="r", storage_options=options).attrs) == {"title": "on s3"}
    assert paths() == [".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]


def test_sharded_reads_fetch_byte_ranges(s3_bucket: tuple[str, dict[str, Any]],
                                         s3_log: pytest.LogCaptureFixture) -> None:
    prefix, options = s3_bucket
    url = f"{prefix}/data.zarr"
    data = _write_hierarchy(url, options, 3)
    bucket = _bucket(prefix)
    store = LoggingStore(FsspecStore.from_url(url, storage_options=options, read_only=True))
    with store:
        array = zarrlayered.open_group(store, mode="r", zarr_format=3)["sharded"]
        store.reset_counts()
        s3_log.clear()
        np.testing.assert_array_equal(array[8:16, 8:16], data[8:16, 8:16])  # one inner chunk of shard (0, 0)
        shard = f"/{bucket}/data.zarr/sharded/c/0/0"
        # the shard's index (a suffix range), then the chunk's range: never the whole 8 KiB shard
        assert s3_requests(s3_log.records, bucket) == [Request("GET", shard, 206)] * 2
        assert store.bytes_read == _ONE_INNER_CHUNK
        store.reset_counts()
        s3_log.clear()
        np.testing.assert_array_equal(array[0:8, 30:34], data[0:8, 30:34])  # inner chunks in shards (0, 0), (0, 1)
        # two shards: each one's index (unless remembered) and one chunk's range
        requests = s3_requests(s3_log.records, bucket)
        assert {request.status for request in requests} == {206}
        assert 2 <= len(requests) <= 4
        assert 2 * 8 * 8 * 8 <= store.bytes_read <= 2 * _ONE_INNER_CHUNK


@pytest.mark.parametrize("cache", ["simplecache", "blockcache"])
def test_cache_chained_in_front_of_s3(s3_bucket: tuple[str, dict[str, Any]], s3_log: pytest.LogCaptureFixture,
                                      tmp_path: Path, cache: str) -> None:
    prefix, options = s3_bucket
    url = f"{prefix}/data.zarr"
    data = _write_hierarchy(url, options, 3)
    bucket = _bucket(prefix)
    chained = {"s3": options, cache: {"cache_storage": str(tmp_path / "cache")}}
    root = zarrlayered.open_group(f"{cache}::{url}", mode="r", storage_options=chained, zarr_format=3)
    s3_log.clear()
    np.testing.assert_array_equal(root["sharded"][8:16, 8:16], data[8:16, 8:16])
    shard = f"/{bucket}/data.zarr/sharded/c/0/0"
    first = [request for request in s3_requests(s3_log.records, bucket) if request.method == "GET"]
    assert first and all(request.path == shard for request in first)
    assert any(tmp_path.joinpath("cache").iterdir())  # the cache holds the shard's bytes
    s3_log.clear()
    np.testing.assert_array_equal(root["sharded"][8:24, 0:8], data[8:24, 0:8])  # same shard, from the cache
    assert not [request for request in s3_requests(s3_log.records, bucket) if request.path == shard
                and request.method == "GET"]


def test_xarray_engine_on_s3(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    xr = pytest.importorskip("xarray")
    zarr = pytest.importorskip("zarr")
    prefix, options = s3_bucket
    url = f"{prefix}/ds.zarr"
    ds = xr.Dataset({"t": (("time", "x"), np.arange(12.0).reshape(3, 4), {"units": "K"})},
                    coords={"x": [10, 20, 30, 40]}, attrs={"source": "s3"})
    ds["t"].encoding = {"chunks": (1, 4), "scale_factor": 0.5, "dtype": "i2", "_FillValue": -1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        ds.to_zarr(url, mode="w", storage_options=options, zarr_format=3, consolidated=True)
        theirs = xr.open_dataset(url, engine="zarr", storage_options=options, chunks={})
    with theirs, xr.open_dataset(url, engine="zarrlayered", storage_options=options, chunks={}) as ours:
        xr.testing.assert_identical(theirs, ours)
        assert ours["t"].chunks == ((1, 1, 1), (4,))
        xr.testing.assert_identical(theirs.load(), ours.load())


# -- gs:// ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["gs://bucket/data.zarr", "gcs://bucket/data.zarr",
                                 "simplecache::gs://bucket/data.zarr"])
def test_gs_url_is_fsspecs_gcs_protocol_and_names_the_missing_package(url: str) -> None:
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed: the URL would open")
    for open_ in (lambda: zarrlayered.open_group(url, mode="r", storage_options={"token": "anon"} if "::" not in url
                                                 else None),
                  lambda: make_store(url, mode="r")):
        with pytest.raises(ImportError, match=r"needs the 'gcsfs' package.*fsspec's 'gc?s' protocol") as info:
            open_()
        assert info.value.name == "gcsfs"
    xr = pytest.importorskip("xarray")
    with pytest.raises(ImportError, match="gcsfs"):
        xr.open_dataset(url, engine="zarrlayered")


# -- http:// and https:// -------------------------------------------------------------------------------------
class _RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that answers ``Range`` requests (206) as object stores and web servers do, and
    records every request in ``server.requests``."""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def send_head(self) -> Any:
        wanted = self.headers.get("Range")
        self.server.requests.append((self.command, self.path, wanted))  # type: ignore[attr-defined]
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file() or not self.server.honours_ranges:  # type: ignore[attr-defined]
            return super().send_head()  # 200 and the whole file, as a server that ignores Range answers
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted)
        if match is None:
            self.send_error(400, "bad range")
            return None
        size = len(data)
        if match.group(1):
            start, end = int(match.group(1)), int(match.group(2)) if match.group(2) else size - 1
        else:
            start, end = max(0, size - int(match.group(2))), size - 1
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        body = data[start : min(end, size - 1) + 1]
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@dataclass
class Served:
    """A directory served on loopback: its ``url``, the ``storage_options`` that reach it, the requests."""

    root: Path
    url: str
    storage_options: dict[str, Any]
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)


def _tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context and a client context trusting it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


@pytest.fixture(params=["http", "https", "http-ignoring-ranges"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """A directory served by a loopback ``http.server`` (``https``: TLS with a certificate the client trusts;
    ``http-ignoring-ranges``: a server that answers every range request with the whole file)."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_RangeRequestHandler, directory=str(root))
    )
    options: dict[str, Any] = {}
    if request.param == "https":
        if shutil.which("openssl") is None:
            pytest.skip("no openssl command to make a certificate")
        server_context, client_context = _tls_context(tmp_path)
        server.socket = server_context.wrap_socket(server.socket, server_side=True)
        options = {"ssl": client_context}
    scheme = request.param.removesuffix("-ignoring-ranges")
    served = Served(root, f"{scheme}://127.0.0.1:{server.server_address[1]}", options)
    server.requests = served.requests  # type: ignore[attr-defined]
    server.honours_ranges = not request.param.endswith("-ignoring-ranges")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_served_directory_reads_lists_and_refuses_writes(served: Served) -> None:
    local = zarrlayered.open_group(served.root / "data.zarr", mode="w", zarr_format=3, attributes={"a": 1})
    _, data = _sharded(local)
    local.create_group("sub").create_array("v", shape=(3,), dtype="i2")[:] = [4, 5, 6]
    url = f"{served.url}/data.zarr"
    root = zarrlayered.open_group(url, mode="r", storage_options=served.storage_options)
    assert root.read_only and dict(root.attrs) == {"a": 1}
    # no consolidated metadata: the members come from the server's directory listings
    assert [name for name, _ in root.members(max_depth=None)] == ["sharded", "sub", "sub/v"]
    assert root["sub/v"][:].tolist() == [4, 5, 6]
    served.requests.clear()
    np.testing.assert_array_equal(root["sharded"][8:16, 8:16], data[8:16, 8:16])
    shard = [(method, ranges) for method, path, ranges in served.requests if path == "/data.zarr/sharded/c/0/0"]
    assert shard and all(method == "GET" and ranges is not None for method, ranges in shard)
    # read-only: writes are refused before anything reaches the server
    with pytest.raises(ReadOnlyError, match="read-only"):
        zarrlayered.open_group(url, storage_options=served.storage_options)
    with pytest.raises(ReadOnlyError):
        root["sub/v"][0] = 9
    with make_store(url, storage_options=served.storage_options) as store:
        assert store.read_only
        with pytest.raises(ReadOnlyError):
            zarrlayered.sync(store.set("sub/v/c/0", b"x"))
        with pytest.raises(ReadOnlyError):
            store.with_read_only(False)
    assert not [request for request in served.requests if request[0] not in ("GET", "HEAD")]
    assert zarrlayered.open_group(served.root / "data.zarr", mode="r")["sub/v"][:].tolist() == [4, 5, 6]


def test_served_consolidated_group_opens_in_one_request(served: Served) -> None:
    local = zarrlayered.open_group(served.root / "data.zarr", mode="w", zarr_format=3)
    _sharded(local)
    zarrlayered.consolidate_metadata(str(served.root / "data.zarr"))
    served.requests.clear()
    root = zarrlayered.open_group(f"{served.url}/data.zarr", mode="r", storage_options=served.storage_options,
                                  zarr_format=3)
    assert root["sharded"].shape == (64, 64)
    assert served.requests == [("GET", "/data.zarr/zarr.json", None)]


def test_xarray_engine_over_http(served: Served) -> None:
    xr = pytest.importorskip("xarray")
    path = served.root / "ds.zarr"
    ds = xr.Dataset({"v": ("x", np.arange(6.0))}, coords={"x": np.arange(6) * 2})
    ds.to_zarr(path, mode="w", zarr_format=2, consolidated=True)
    with xr.open_dataset(path, engine="zarr") as theirs, \
            xr.open_dataset(f"{served.url}/ds.zarr", engine="zarrlayered",
                            storage_options=served.storage_options) as ours:
        xr.testing.assert_identical(theirs.load(), ours.load())

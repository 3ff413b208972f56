"""Remote faults: FsspecStore over S3 (moto's server on loopback) with a faulty network in between.

A :class:`~faulty_proxy.FaultyProxy` (real sockets) sits between s3fs and a moto server started for each
test, and drops connections, never answers, answers slowly, or cuts a request half-way and stops the
server. The backend's own retries are turned off (botocore ``total_max_attempts=1``; the store sets
s3fs's to 1) so that the store's policy (config ``store.retries`` / ``store.retry_backoff``) is the one
counted. What must hold:

- reads retry a bounded number of times, with backoff, then raise an OSError (FsspecStoreError) naming
  the key; the botocore/aiohttp exception is its ``__cause__``, never raised itself;
- a short outage is ridden out: the read returns the right bytes;
- a write that fails half-way (the server stopped mid-request) leaves the old metadata document, whole:
  an S3 PUT is atomic, the object store keeps either the old value or the complete new one;
- ``async.timeout`` bounds every operation, opening included, against a server that accepts connections
  and never answers; slow answers inside the limit are waited for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import s3_server as s3
from faulty_proxy import FaultyProxy
from moto.server import ThreadedMotoServer

import zarrlayered
from zarrlayered.api import asynchronous as async_api
from zarrlayered.core.config import config
from zarrlayered.core.sync import sync
from zarrlayered.stores.fsspec import FsspecStore, FsspecStoreError

pytestmark = pytest.mark.timeout(60)


@dataclass
class Remote:
    """A moto server of its own, a proxy in front of it, and a bucket."""

    server: ThreadedMotoServer
    endpoint: str
    proxy: FaultyProxy
    bucket: str

    def options(self) -> dict[str, Any]:
        """Storage options that reach the server through the proxy, with the backend's retries off."""
        return s3.storage_options(
            self.proxy.endpoint,
            config_kwargs={"retries": {"total_max_attempts": 1}, "connect_timeout": 5, "read_timeout": 10},
        )

    def url(self, path: str = "root") -> str:
        return f"s3://{self.bucket}/{path}"

    def read_object(self, key: str, endpoint: str | None = None) -> bytes | None:
        """The object's bytes as the server holds them (asked directly, not through the proxy)."""
        client = s3.boto3_client(endpoint or self.endpoint)
        try:
            body: bytes = client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            return None
        return body


@pytest.fixture
def remote(s3_server: str) -> Iterator[Remote]:
    """``s3_server`` provides the fake credentials; this test gets a server it may stop."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    proxy = FaultyProxy((host, port))
    try:
        yield Remote(server, endpoint, proxy, s3.new_bucket(endpoint))
    finally:
        proxy.close()
        server.stop()


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with config.set({"store.retries": 2, "store.retry_backoff": 0.01, "async.timeout": 20}):
        yield


def _retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "zarrlayered.store" and "; retry " in r.getMessage()]


# -- retries -----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize("operation", ["get", "exists", "list"])
def test_reads_retry_a_bounded_number_of_times_then_raise_an_oserror(
    remote: Remote, caplog: pytest.LogCaptureFixture, operation: str
) -> None:
    with FsspecStore.from_url(remote.url(), storage_options=remote.options()) as store:
        sync(store.set("a/c/0", b"chunk"))
        remote.proxy.mode = "drop"
        before = remote.proxy.connections
        caplog.set_level(logging.INFO, logger="zarrlayered.store")
        with pytest.raises(OSError, match=r"'a/c/0'|list") as info:
            if operation == "get":
                sync(store.get("a/c/0"))
            elif operation == "exists":
                sync(store.exists("a/c/0"))  # a failure is not "missing"
            else:
                sync(_collect(store, "a/"))
    error = info.value
    assert isinstance(error, FsspecStoreError) and "after 3 attempts" in str(error)
    assert type(error.__cause__).__module__.split(".")[0] in {"botocore", "aiohttp"}
    records = [r.getMessage() for r in _retry_records(caplog)]
    # store.retries = 2, waiting store.retry_backoff, then twice as long
    assert len(records) == 2 and "retry 1 of 2 in 0.01 s" in records[0] and "retry 2 of 2 in 0.02 s" in records[1]
    # one connection per attempt (aiohttp may open a second one when the first is closed on it)
    assert 3 <= remote.proxy.connections - before <= 6


async def _collect(store: FsspecStore, prefix: str) -> list[str]:
    return [key async for key in store.list_prefix(prefix)]


def test_no_retries_when_disabled(remote: Remote, caplog: pytest.LogCaptureFixture) -> None:
    with FsspecStore.from_url(remote.url(), storage_options=remote.options()) as store:
        sync(store.set("k", b"v"))
        remote.proxy.mode = "drop"
        caplog.set_level(logging.INFO, logger="zarrlayered.store")
        with config.set({"store.retries": 0}), pytest.raises(FsspecStoreError, match="'k'") as info:
            sync(store.get("k"))
    assert "attempts" not in str(info.value) and not _retry_records(caplog)


@pytest.mark.usefixtures("fast_retries")
def test_a_short_outage_is_ridden_out(remote: Remote, caplog: pytest.LogCaptureFixture) -> None:
    data = np.arange(100, dtype="<i4")
    zarrlayered.create_array(remote.url(), storage_options=remote.options(), data=data, chunks=(25,))
    arr = zarrlayered.open_array(remote.url(), storage_options=remote.options(), mode="r")
    remote.proxy.close_connections()
    # The next 2 connections fail: aiohttp may retry once on a new connection itself, the store retries
    # the rest (store.retries = 2 is enough either way).
    remote.proxy.drop_next = 2
    caplog.set_level(logging.INFO, logger="zarrlayered.store")
    np.testing.assert_array_equal(arr[25:50], data[25:50])  # one chunk: one request
    assert 1 <= len(_retry_records(caplog)) <= 2
    assert remote.proxy.drop_next == 0


# -- interrupted writes ------------------------------------------------------------------------------------
@pytest.mark.usefixtures("fast_retries")
@pytest.mark.parametrize("stop_server", [True, False], ids=["server-stopped", "connection-cut"])
def test_a_failed_write_never_leaves_half_a_metadata_document(remote: Remote, stop_server: bool) -> None:
    """The attributes update is cut off after 40 kB of a 250 kB request (and the server stopped)."""
    options = remote.options()
    arr = zarrlayered.create_array(remote.url(), storage_options=options, shape=(10,), chunks=(5,), dtype="i4",
                                   attributes={"version": 1, "payload": list(range(20000))})
    old = remote.read_object("root/zarr.json")
    assert old is not None and json.loads(old)["attributes"]["version"] == 1
    remote.proxy.mode, remote.proxy.cut_after = "cut", 40_000
    if stop_server:
        remote.proxy.on_cut = remote.server.stop
    with pytest.raises(OSError, match=r"zarr\.json") as info:
        arr.attrs.update({"version": 2, "payload": list(range(30000))})
    assert isinstance(info.value, FsspecStoreError) and remote.proxy.cuts >= 1
    endpoint = None
    if stop_server:  # a new server process over the same storage (moto keeps its state in this process)
        remote.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        remote.server.start()
        host, port = remote.server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
    assert remote.read_object("root/zarr.json", endpoint) == old  # the old document, whole
    # and once the network is back, the write goes through whole
    if endpoint is not None:
        host, port = endpoint.removeprefix("http://").split(":")
        remote.proxy.upstream = (host, int(port))
    remote.proxy.mode = "pass"
    remote.proxy.close_connections()
    arr.attrs.update({"version": 3})
    reopened = zarrlayered.open_array(remote.url(), storage_options=options, mode="r")
    assert reopened.attrs["version"] == 3 and len(reopened.attrs["payload"]) == 20000


@pytest.mark.usefixtures("fast_retries")
def test_an_interrupted_chunk_write_leaves_the_old_chunk(remote: Remote) -> None:
    data = np.zeros((4, 65536), dtype="<f8")  # one 512 kB chunk per row
    arr = zarrlayered.create_array(remote.url(), storage_options=remote.options(), data=data, chunks=(1, 65536),
                                   compressors=None)
    remote.proxy.mode, remote.proxy.cut_after = "cut", 100_000
    with pytest.raises(FsspecStoreError):
        arr[2] = 1.0
    remote.proxy.mode = "pass"
    remote.proxy.close_connections()
    np.testing.assert_array_equal(arr[:], data)


# -- time limits --------------------------------------------------------------------------------------------
def test_async_timeout_bounds_every_operation_against_a_silent_server(remote: Remote) -> None:
    """The server accepts connections and never answers: every call ends in TimeoutError, opening included."""
    zarrlayered.create_array(remote.url("a"), storage_options=remote.options(), shape=(4,), chunks=(2,), dtype="i1")
    arr = zarrlayered.open_array(remote.url("a"), storage_options=remote.options(), mode="r+")
    remote.proxy.mode = "hang"
    remote.proxy.close_connections()  # pooled connections would still pass
    with config.set({"async.timeout": 0.5}):
        with pytest.raises(TimeoutError, match=r"async\.timeout"):
            zarrlayered.open_array(remote.url("a"), storage_options=remote.options(), mode="r")
        with pytest.raises(TimeoutError):
            zarrlayered.open_group(remote.url("g"), storage_options=remote.options(), mode="a")
        with pytest.raises(TimeoutError):
            zarrlayered.create_array(remote.url("b"), storage_options=remote.options(), shape=(4,), dtype="i1")
        with pytest.raises(TimeoutError):
            arr[:]
        with pytest.raises(TimeoutError):
            arr[0] = 1
        with pytest.raises(TimeoutError):
            arr.attrs["x"] = 1
    assert remote.proxy.connections > 0


def test_async_timeout_bounds_each_request_of_the_async_api(remote: Remote) -> None:
    """Without the sync bridge, each request is bounded and retried; then the error is an OSError."""
    zarrlayered.create_array(remote.url("a"), storage_options=remote.options(), shape=(4,), chunks=(2,), dtype="i1")
    remote.proxy.mode = "hang"

    async def open_it() -> Any:
        return await async_api.open_array(store=remote.url("a"), storage_options=remote.options(), mode="r")

    with config.set({"async.timeout": 0.3, "store.retries": 1, "store.retry_backoff": 0.01}):
        with pytest.raises(OSError, match=r"zarr\.json") as info:
            asyncio.run(open_it())
    assert isinstance(info.value, FsspecStoreError) and isinstance(info.value.__cause__, TimeoutError)
    assert "after 2 attempts" in str(info.value)


def test_slow_answers_within_the_limit_are_waited_for(remote: Remote) -> None:
    data = np.arange(64, dtype="<i2")
    zarrlayered.create_array(remote.url(), storage_options=remote.options(), data=data, chunks=(16,))
    remote.proxy.mode, remote.proxy.delay = "slow", 0.05
    remote.proxy.close_connections()
    with config.set({"async.timeout": 20}):
        arr = zarrlayered.open_array(remote.url(), storage_options=remote.options(), mode="r")
        np.testing.assert_array_equal(arr[:], data)
    remote.proxy.delay = 2.0
    remote.proxy.close_connections()
    with config.set({"async.timeout": 0.5}), pytest.raises(TimeoutError):
        arr[:]


# -- the settings -------------------------------------------------------------------------------------------
def test_retry_settings_are_validated_and_read_from_the_environment() -> None:
    from zarrlayered.core import config as config_module

    assert config_module.retry_delays() == (0.1, 0.2, 0.4)  # the defaults: 3 retries from 0.1 s
    with config.set({"store.retries": 6, "store.retry_backoff": 1, "store.retry_backoff_max": 5}):
        assert config_module.retry_delays() == (1.0, 2.0, 4.0, 5.0, 5.0, 5.0)
    for key, bad in [("store.retries", -1), ("store.retries", 1.5), ("store.retry_backoff", "soon")]:
        with config.set({key: bad}), pytest.raises(ValueError, match=key.replace(".", r"\.")):
            config_module.retry_delays()
    # from the environment, in a fresh interpreter (the settings are read at import)
    env = {**os.environ, "ZARRLAYERED_STORE__RETRIES": "1", "ZARRLAYERED_STORE__RETRY_BACKOFF": "0.5"}
    code = "from zarrlayered.core.config import retry_delays; print(retry_delays())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "(0.5,)"

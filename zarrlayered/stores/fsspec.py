"""FsspecStore: a store over any fsspec filesystem (S3, GCS, HTTP, local files, memory, zip archives, ...).

Two kinds of filesystem are served differently:

- *Async* filesystems (``fs.async_impl``: s3fs, gcsfs, HTTP) are driven natively through their
  coroutines (``_cat_file``, ``_pipe_file``, ...), one request per store operation under the global
  concurrency limit. Such a filesystem holds network sessions bound to the event loop that created
  them, so the store keeps one ``asynchronous=True`` copy of the filesystem per event loop it is used
  on: the library's IO loop (sync API), and any loop a user awaits the store on. Copies whose loop has
  closed are dropped and their connections released.
- *Blocking* filesystems (local files, memory, zip, caching wrappers) run every call in the shared
  worker pool through :func:`zarrlayered.core.sync.run_blocking`.

Failures
--------
Every operation that fails with a *transient* error (connection refused, reset or closed, a timeout, an
HTTP 5xx or 429 answer) is retried ``store.retries`` times (config, 3 by default), waiting
``store.retry_backoff`` seconds (0.1) before the first retry and twice as long before each next one. On
async filesystems each attempt is bounded by ``async.timeout`` when it is set, so a server that accepts
connections and never answers cannot hang the async API either (the sync API is bounded by the same
setting as a whole). Retrying a write is safe: every write puts a whole value, and an object store puts
a value atomically, so a failed write leaves the old value or none, never part of the new one.

Backend errors other than the builtin "not found" and permission errors (botocore, aiohttp, ...) are
raised as :class:`FsspecStoreError`, an OSError naming the operation, the key, the number of attempts
and the original error (chained as ``__cause__``); a library's exception never leaks out.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import inspect
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from zarrlayered.core import config as _config
from zarrlayered.core.sync import concurrency_limit, run_blocking
from zarrlayered.errors import ReadOnlyError, ZarrlayeredError
from zarrlayered.stores.abc import (
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    Store,
    SuffixByteRequest,
)

__all__ = ["FsspecStore", "FsspecStoreError", "is_transient"]

logger = logging.getLogger("zarrlayered.store")

#: What a filesystem raises for a key that holds no value (a missing file, or a directory).
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
#: Protocols whose filesystems cannot write.
_READ_ONLY_PROTOCOLS = frozenset({"http", "https", "tar", "github", "git", "libarchive", "reference"})
#: errno values of a failure worth retrying (s3fs turns S3 error codes into OSErrors carrying these).
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.EIO,
        errno.EBUSY,
        errno.EAGAIN,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
    }
)
T = TypeVar("T")
#: The options that bind a per-loop copy of an async filesystem to its loop.
_LOOP_OPTIONS = ("asynchronous", "loop", "skip_instance_cache", "use_listings_cache")
#: Tasks closing sessions on a running loop, kept referenced until they finish.
_closing_tasks: set[asyncio.Task[Any]] = set()


class FsspecStoreError(ZarrlayeredError, OSError):
    """A filesystem backend failed with an error that is not an OSError (botocore, aiohttp, ...).

    The message names the operation, the key and the original error, which is chained as ``__cause__``.
    """


def _backend_error_types() -> tuple[type[BaseException], ...]:
    """The connection-level error classes of the optional backends (botocore, aiohttp) that are installed."""
    types: builtins.list[type[BaseException]] = [asyncio.IncompleteReadError]
    with contextlib.suppress(ImportError):
        from botocore import exceptions as botocore_errors  # type: ignore[import-untyped]

        types += [botocore_errors.HTTPClientError, botocore_errors.ConnectionError]
    with contextlib.suppress(ImportError):
        import aiohttp

        types += [aiohttp.ClientConnectionError, aiohttp.ClientPayloadError]
    return tuple(types)


_backend_errors: tuple[type[BaseException], ...] | None = None


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a failed request, from aiohttp (``status``) or botocore (``response``)."""
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        status = getattr(error, "status", None)
        if isinstance(status, int):
            return status
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(code, int):
                return code
    return None


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is a failure that may not happen again: worth retrying.

    Connection errors and timeouts (builtin, botocore, aiohttp), HTTP 5xx and 429 answers, and OSErrors
    whose errno says "try again" (EIO, EBUSY, ECONNRESET, ...). "Not found", permission and argument
    errors, and HTTP 4xx answers, are not.
    """
    global _backend_errors
    if isinstance(exc, (*_MISSING, PermissionError, FileExistsError, NotImplementedError)):
        return False
    status = _http_status(exc)
    if status is not None:
        return status >= 500 or status == 429
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    if _backend_errors is None:
        _backend_errors = _backend_error_types()
    if isinstance(exc, _backend_errors):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


def _passes_through(exc: BaseException) -> bool:
    """Errors raised to the caller unchanged: the builtin OSErrors and the package's own."""
    return isinstance(exc, OSError) and (type(exc).__module__ == "builtins" or isinstance(exc, ZarrlayeredError))


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def serves_async(fs: AbstractFileSystem) -> bool:
    """True when the store drives ``fs`` through its coroutines (``_cat_file``, ...).

    A caching wrapper hands the attributes it does not define to the filesystem it wraps, so fsspec's
    ``blockcache`` over s3fs looks async while its coroutines would be s3fs's, bypassing the cache: a
    wrapper is async only when it defines ``_cat_file`` itself (``simplecache``/``filecache`` do), else
    its blocking methods, which read through the cache, are used.
    """
    if not getattr(fs, "async_impl", False):
        return False
    inner = getattr(fs, "fs", None)
    if isinstance(inner, AbstractFileSystem) and inner is not fs:
        return hasattr(type(fs), "_cat_file")
    return True


def filesystem_is_read_only(fs: AbstractFileSystem) -> bool:
    """True when ``fs`` cannot write: HTTP, tar, a zip archive opened for reading, or a wrapper of one."""
    protocols = _protocols(fs)
    if any(protocol in _READ_ONLY_PROTOCOLS for protocol in protocols):
        return True
    if "zip" in protocols and getattr(fs, "mode", "r") == "r":
        return True
    inner = getattr(fs, "fs", None)  # caching and dir wrappers hold the filesystem they wrap
    if isinstance(inner, AbstractFileSystem) and inner is not fs:
        return filesystem_is_read_only(inner)
    return False


def _normalize_root(fs: AbstractFileSystem, path: str) -> str:
    root: str = fs._strip_protocol(path) if path else ""
    if root not in ("", "/"):
        root = root.rstrip("/")
    return root


def _range_args(byte_range: ByteRequest | None) -> tuple[int | None, int | None]:
    """The ``start``/``end`` arguments of ``cat_file`` for a byte request (a suffix is a negative start)."""
    if byte_range is None:
        return None, None
    if isinstance(byte_range, RangeByteRequest):
        return byte_range.start, byte_range.end
    if isinstance(byte_range, OffsetByteRequest):
        return byte_range.offset, None
    return -byte_range.suffix, None


def _trim_to_range(data: bytes, byte_range: ByteRequest | None) -> bytes:
    """``data`` cut to the requested bytes when the server ignored ``Range`` and sent the whole value.

    A server that honours ranges never sends more than was asked for; one that ignores them (plain web
    servers such as Python's ``http.server``) answers 200 with the whole value, which fsspec passes on.
    """
    if isinstance(byte_range, RangeByteRequest) and len(data) > byte_range.end - byte_range.start:
        logger.debug("the server ignored a byte range: %d bytes came for %s", len(data), byte_range)
        return data[byte_range.start : byte_range.end]
    if isinstance(byte_range, SuffixByteRequest) and len(data) > byte_range.suffix:
        logger.debug("the server ignored a byte range: %d bytes came for %s", len(data), byte_range)
        return data[len(data) - byte_range.suffix :]
    return data


def _is_empty_request(byte_range: ByteRequest | None) -> bool:
    if isinstance(byte_range, RangeByteRequest):
        return byte_range.end == byte_range.start
    return isinstance(byte_range, SuffixByteRequest) and byte_range.suffix == 0


_whole_read_cache: dict[type, dict[str, Any]] = {}


def _whole_read_options(fs: AbstractFileSystem) -> dict[str, Any]:
    """Extra ``_cat_file`` arguments that make a whole-value read one request.

    s3fs (``max_concurrency`` > 1) first asks for the size of the object to split big reads into parallel
    ranged requests; for chunk-sized values that doubles the round trips, so whole reads ask for one stream.
    """
    fs_type: type = type(fs)
    options = _whole_read_cache.get(fs_type)
    if options is None:
        try:
            parameters = inspect.signature(fs._cat_file).parameters
        except (TypeError, ValueError):  # pragma: no cover - an uninspectable method
            parameters = {}  # type: ignore[assignment]
        options = {"max_concurrency": 1} if "max_concurrency" in parameters else {}
        _whole_read_cache[fs_type] = options
    return options


def _layers(fs: AbstractFileSystem) -> builtins.list[AbstractFileSystem]:
    """``fs`` and the filesystems it wraps (caching and dir wrappers keep theirs in ``.fs``)."""
    layers = [fs]
    inner = getattr(fs, "fs", None)
    while isinstance(inner, AbstractFileSystem) and all(inner is not layer for layer in layers):
        layers.append(inner)
        inner = getattr(inner, "fs", None)
    return layers


def _layer_closer(fs: AbstractFileSystem) -> Callable[[], Coroutine[Any, Any, Any]] | None:
    creator = getattr(fs, "_s3creator", None)  # s3fs: the botocore client context
    if creator is not None:
        if hasattr(creator, "__aexit__"):
            return lambda: creator.__aexit__(None, None, None)
        clear = getattr(creator, "clear", None)  # s3fs's region cache
        if callable(clear):
            return clear  # type: ignore[no-any-return]
    session = getattr(fs, "_session", None)  # the HTTP filesystem: an aiohttp session
    if session is not None and callable(getattr(session, "close", None)) and not getattr(session, "closed", False):
        return session.close  # type: ignore[no-any-return]
    return None


def _session_closer(fs: AbstractFileSystem) -> Callable[[], Coroutine[Any, Any, Any]] | None:
    """A coroutine function that closes the network sessions ``fs`` (or a filesystem it wraps) opened."""
    closers = [closer for layer in _layers(fs) if (closer := _layer_closer(layer)) is not None]
    if not closers:
        return None

    async def close_all() -> None:
        for closer in closers:
            try:
                await closer()
            except Exception:  # pragma: no cover - closing is best effort
                logger.debug("could not close a session of %r", fs, exc_info=True)

    return close_all


def _aiohttp_sessions(fs: AbstractFileSystem) -> builtins.list[Any]:
    """The aiohttp sessions an HTTP filesystem (``_session``) or s3fs (its botocore client) holds."""
    sessions: builtins.list[Any] = []
    for layer in _layers(fs):
        http = getattr(layer, "_session", None)
        if http is not None:
            sessions.append(http)
        endpoint = getattr(getattr(layer, "_s3", None), "_endpoint", None)
        pool = getattr(getattr(endpoint, "http_session", None), "_sessions", None)
        if isinstance(pool, dict):
            sessions.extend(pool.values())
    return list({id(session): session for session in sessions}.values())


def _release(loop: asyncio.AbstractEventLoop, fs: AbstractFileSystem) -> None:
    """Close the sessions of a per-loop filesystem without waiting (from any thread)."""
    closer = _session_closer(fs)
    if closer is None:
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    try:
        if loop is running:
            task = loop.create_task(closer())
            _closing_tasks.add(task)
            task.add_done_callback(_closing_tasks.discard)
        elif not loop.is_closed() and loop.is_running():
            asyncio.run_coroutine_threadsafe(closer(), loop)
        else:
            # The loop cannot run the coroutine any more: mark the connection pools closed the way the
            # libraries' own finalizers do, so nothing is reported as unclosed at garbage collection.
            for session in _aiohttp_sessions(fs):
                connector = getattr(session, "connector", None)
                if connector is not None:
                    connector._close()
    except Exception:  # pragma: no cover - releasing is best effort
        logger.debug("could not release the session of %r", fs, exc_info=True)


def _release_all(
    loop_fs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AbstractFileSystem], lock: threading.Lock
) -> None:
    with lock:
        entries = list(loop_fs.items())
        loop_fs.clear()
    for loop, fs in entries:
        _release(loop, fs)


class FsspecStore(Store):
    """A store over an fsspec filesystem, rooted at ``path``.

    Parameters
    ----------
    fs
        Any :class:`fsspec.AbstractFileSystem`. Async filesystems are used through their coroutines,
        blocking ones in the shared worker pool.
    path
        The folder (or bucket and prefix) that holds the store's keys; ``""`` for the filesystem root.
    read_only
        Refuse writes and deletes. Always true over a filesystem that cannot write (HTTP, a zip
        archive opened for reading, tar, ...).

    Examples
    --------
    >>> store = FsspecStore.from_url("memory://example/data")  # doctest: +SKIP
    >>> store = FsspecStore.from_url("s3://bucket/data.zarr", storage_options={"anon": True})  # doctest: +SKIP
    """

    supports_partial_writes: ClassVar[bool] = False

    def __init__(self, fs: AbstractFileSystem, path: str = "", *, read_only: bool = False) -> None:
        if not isinstance(fs, AbstractFileSystem):
            raise TypeError(f"FsspecStore needs an fsspec AbstractFileSystem, got {type(fs).__name__}: {fs!r}")
        if not isinstance(path, str):
            raise TypeError(f"FsspecStore path must be str, got {type(path).__name__}: {path!r}")
        self._fs_read_only = filesystem_is_read_only(fs)
        super().__init__(read_only=read_only or self._fs_read_only)
        self._fs = fs
        self._root = _normalize_root(fs, path)
        self._base = self._root if self._root.endswith("/") or not self._root else f"{self._root}/"
        self._async = serves_async(fs)
        self._init_loop_cache()

    def _init_loop_cache(self) -> None:
        self._loop_fs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AbstractFileSystem] = (
            weakref.WeakKeyDictionary()
        )
        self._loop_fs_lock = threading.Lock()
        # A store dropped without close() (a read-only view, a forgotten store) still releases its sessions.
        self._finalizer = weakref.finalize(self, _release_all, self._loop_fs, self._loop_fs_lock)
        self._finalizer.atexit = False

    @classmethod
    def from_url(
        cls, url: str, storage_options: Mapping[str, Any] | None = None, read_only: bool = False
    ) -> FsspecStore:
        """Open the store at an fsspec URL.

        Parameters
        ----------
        url
            Any fsspec URL, chained ones included: ``s3://bucket/data.zarr``, ``memory://x``,
            ``file:///tmp/x``, ``zip::file:///tmp/x.zip``, ``simplecache::s3://bucket/x``.
        storage_options
            Keyword arguments for the filesystem (``fsspec.core.url_to_fs``): credentials, endpoint, ...
        read_only
            Refuse writes and deletes.
        """
        if not isinstance(url, str):
            raise TypeError(f"FsspecStore.from_url needs a str URL, got {type(url).__name__}: {url!r}")
        if storage_options is not None and not isinstance(storage_options, Mapping):
            raise TypeError(f"storage_options must be a mapping, got {type(storage_options).__name__}")
        fs, path = url_to_fs(url, **dict(storage_options or {}))
        return cls(fs, path, read_only=read_only)

    # -- identity ------------------------------------------------------------------------------------
    @property
    def fs(self) -> AbstractFileSystem:
        """The filesystem the store was made with."""
        return self._fs

    @property
    def path(self) -> str:
        """The root of the store inside the filesystem (no protocol, no trailing ``/``)."""
        return self._root

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FsspecStore)
            and self._fs == other._fs
            and self._root == other._root
            and self.read_only == other.read_only
        )

    def __hash__(self) -> int:
        return hash((FsspecStore, type(self._fs), self._root))

    def _url(self) -> str:
        return str(self._fs.unstrip_protocol(self._root))

    def _describe(self) -> str:
        return repr(self._fs.unstrip_protocol(self._root))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_loop_fs"], state["_loop_fs_lock"], state["_finalizer"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_loop_cache()

    def with_read_only(self, read_only: bool = True) -> Self:
        """Return a view of the same data with the given read-only flag (with its own connections)."""
        if not read_only and self._fs_read_only:
            raise ReadOnlyError(f"{self!r} is over a filesystem that cannot write; it cannot be made writable")
        clone = super().with_read_only(read_only)
        clone._init_loop_cache()
        return clone

    # -- the filesystem of the running loop ----------------------------------------------------------
    def fs_for_running_loop(self) -> AbstractFileSystem:
        """The filesystem instance the store uses on the running event loop.

        For a blocking filesystem that is :attr:`fs` itself. For an async filesystem it is an
        ``asynchronous=True`` copy made for this loop on first use (sessions are bound to a loop).
        """
        if not self._async:
            return self._fs
        loop = asyncio.get_running_loop()
        fs = self._loop_fs.get(loop)
        if fs is not None:
            return fs
        with self._loop_fs_lock:
            fs = self._loop_fs.get(loop)
            if fs is None:
                self._prune_closed_loops()
                fs = self._copy_for_loop(loop)
                self._loop_fs[loop] = fs
        return fs

    def _copy_for_loop(self, loop: asyncio.AbstractEventLoop) -> AbstractFileSystem:
        options = {
            **self._fs.storage_options,
            "asynchronous": True,
            "loop": loop,
            "skip_instance_cache": True,
            # Listings are not cached: copies on other loops (and other processes) write too.
            "use_listings_cache": False,
        }
        if "target_protocol" in options:
            # A caching wrapper (simplecache::s3://...) makes its target from target_options: the target's
            # sessions must be bound to this loop too, not shared with the blocking instance.
            target = {key: value for key, value in options.items() if key != "target_options"}
            options["target_options"] = {**(options.get("target_options") or {}),
                                         **{key: target[key] for key in _LOOP_OPTIONS}}
        logger.debug("new %s instance for loop %#x", type(self._fs).__name__, id(loop))
        fs: AbstractFileSystem = type(self._fs)(*self._fs.storage_args, **options)
        if isinstance(getattr(fs, "retries", None), int):
            # s3fs retries some failures itself (5 times); the store retries every transient failure
            # (config store.retries), so one policy, configurable, decides how often a request is tried.
            fs.retries = 1
        return fs

    def _prune_closed_loops(self) -> None:
        for loop, fs in list(self._loop_fs.items()):
            if loop.is_closed():
                del self._loop_fs[loop]
                _release(loop, fs)

    def close(self) -> None:
        """Close the store and release the connections it opened on every loop."""
        super().close()
        _release_all(self._loop_fs, self._loop_fs_lock)

    async def aclose(self) -> None:
        """Close the store, awaiting the release of the connections of the running loop."""
        loop = asyncio.get_running_loop()
        with self._loop_fs_lock:
            fs = self._loop_fs.pop(loop, None)
        closer = None if fs is None else _session_closer(fs)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
        self.close()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- calling the filesystem ------------------------------------------------------------------------
    def _key_path(self, key: str) -> str:
        return f"{self._base}{key}"

    def _relative(self, name: str) -> str | None:
        """The key of a path the filesystem listed, or None when it lies outside the store."""
        name = name.rstrip("/")
        if not self._root:
            return name.lstrip("/") or None
        if not name.startswith(self._base):
            return None
        return name[len(self._base) :] or None

    async def _fs_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``fs.method`` (blocking, in the worker pool) or ``fs._method`` (async, on this loop).

        On an async filesystem the call is bounded by ``async.timeout`` (the wait for a slot of the
        concurrency limit is not).
        """
        if self._async:
            fs = self.fs_for_running_loop()
            limit = _config.timeout()
            async with concurrency_limit():
                if limit is None:
                    return await getattr(fs, f"_{method}")(*args, **kwargs)
                async with asyncio.timeout(limit):
                    return await getattr(fs, f"_{method}")(*args, **kwargs)
        return await run_blocking(getattr(self._fs, method), *args, **kwargs)

    def _wrap(self, operation: str, key: str, exc: BaseException, attempts: int = 1) -> FsspecStoreError:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return FsspecStoreError(f"{operation} {key!r} in {self!r} failed{tries}: {type(exc).__name__}: {exc}")

    async def _retrying(
        self, operation: str, key: str, attempt: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any
    ) -> T:
        """Await ``attempt(*args, **kwargs)``, retrying transient failures (``store.retries``, with backoff).

        "Not found" errors propagate unchanged (callers turn them into a missing value); a transient
        failure that outlasts the retries, and any backend error that is not a builtin OSError, is raised
        as :class:`FsspecStoreError` naming ``operation`` and ``key``.
        """
        delays = _config.retry_delays()
        attempts = 0
        while True:
            attempts += 1
            try:
                return await attempt(*args, **kwargs)
            except Exception as exc:
                if isinstance(exc, _MISSING):
                    raise
                if not is_transient(exc):
                    if _passes_through(exc):
                        raise
                    raise self._wrap(operation, key, exc) from exc
                if attempts > len(delays):
                    raise self._wrap(operation, key, exc, attempts) from exc
                delay = delays[attempts - 1]
                logger.info(
                    "%s %r in %r failed (%s: %s); retry %d of %d in %.2g s",
                    operation,
                    key,
                    self,
                    type(exc).__name__,
                    exc,
                    attempts,
                    len(delays),
                    delay,
                )
                await asyncio.sleep(delay)

    async def _call(self, operation: str, key: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return await self._retrying(operation, key, self._fs_call, method, *args, **kwargs)

    # -- reading ---------------------------------------------------------------------------------------
    async def _info(self, key: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self._call("info of", key, "info", self._key_path(key))
        except _MISSING:
            return None
        return info if info.get("type") == "file" else None

    async def _get(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        if _is_empty_request(byte_range):
            return b"" if await self._info(key) is not None else None
        try:
            return await self._retrying("get", key, self._get_once, key, byte_range)
        except _MISSING:
            return None

    async def _info_once(self, key: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self._fs_call("info", self._key_path(key))
        except _MISSING:
            return None
        return info if info.get("type") == "file" else None

    async def _get_once(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        """One attempt at a read (the retries are :meth:`_retrying`'s)."""
        start, end = _range_args(byte_range)
        path = self._key_path(key)
        extra = _whole_read_options(self._fs) if self._async and byte_range is None else {}
        try:
            try:
                data = await self._fs_call("cat_file", path, start=start, end=end, **extra)
            except (ValueError, NotImplementedError, OSError, AttributeError) as exc:
                if start is None or start >= 0 or isinstance(exc, _MISSING) or is_transient(exc):
                    raise
                # A filesystem without suffix reads (seeking to a negative offset fails with EINVAL, or it
                # refuses a negative start; fsspec's blockcache over a fully cached file has no size): find
                # the size, then read the tail.
                info = await self._info_once(key)
                if info is None:
                    return None
                data = await self._fs_call("cat_file", path, start=max(0, int(info["size"]) + start), end=None)
        except _MISSING:
            return None
        except OSError as exc:
            if start is not None and start > 0 and not is_transient(exc):
                # A range starting past the end: S3 and HTTP answer 416; every store answers b"".
                info = await self._info_once(key)
                if info is not None and int(info["size"]) <= start:
                    return b""
            raise
        return _trim_to_range(bytes(data), byte_range)

    async def _exists(self, key: str) -> bool:
        return await self._info(key) is not None

    async def _getsize(self, key: str) -> int:
        info = await self._info(key)
        if info is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return int(info["size"])

    # -- writing ---------------------------------------------------------------------------------------
    async def _set(self, key: str, value: bytes) -> None:
        path = self._key_path(key)
        try:
            await self._call("set", key, "pipe_file", path, value)
        except FileNotFoundError:
            # A filesystem with real folders (local files without auto_mkdir): make the parents, retry.
            parent = path.rsplit("/", 1)[0]
            await self._call("set", key, "makedirs", parent, exist_ok=True)
            await self._call("set", key, "pipe_file", path, value)

    async def _delete(self, key: str) -> None:
        try:
            await self._call("delete", key, "rm_file", self._key_path(key))
        except _MISSING:
            pass

    # -- listing ---------------------------------------------------------------------------------------
    async def _find(self, folder: str) -> builtins.list[str]:
        path = self._key_path(folder) if folder else self._root
        try:
            names = await self._call("list", folder or "/", "find", path)
        except _MISSING:
            return []
        keys = (self._relative(name) for name in names)
        return [key for key in keys if key is not None]

    async def _list(self) -> AsyncIterator[str]:
        for key in await self._find(""):
            yield key

    async def _list_prefix(self, prefix: str) -> AsyncIterator[str]:
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        for key in await self._find(folder):
            if key.startswith(prefix):
                yield key

    async def _list_dir(self, prefix: str) -> AsyncIterator[str]:
        path = self._key_path(prefix) if prefix else self._root
        try:
            entries = await self._call("list_dir", prefix or "/", "ls", path, detail=True)
        except _MISSING:
            return
        start = f"{prefix}/" if prefix else ""
        children: dict[str, None] = {}
        for entry in entries:
            key = self._relative(entry["name"] if isinstance(entry, dict) else str(entry))
            # A listing of a file names the file itself; it has no children.
            if key is None or not key.startswith(start) or key == prefix:
                continue
            children[key[len(start) :].split("/", 1)[0]] = None
        for child in children:
            yield child

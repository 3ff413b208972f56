"""The sync bridge: run the async engine from synchronous code.

One IO event loop runs in a daemon thread named ``zarrlayered-io``, started on first use. :func:`sync`
hands it a coroutine and blocks the caller until the result (or the exception) comes back. This works
whatever the calling thread is doing, including running an event loop of its own (a Jupyter cell, an
async web handler): the caller's loop is simply blocked for the duration, as any blocking call would.

Re-entrant calls — a coroutine running on one of our loops calls a sync API, which calls :func:`sync` —
cannot wait on the loop they are running on. They run *nested*: on a fresh event loop in a helper thread,
while the calling loop waits. Work that is bound to the blocked loop (an asyncio primitive or a network
session created on it) cannot run there; such a call ends in :class:`~zarrlayered.errors.SyncError` or a
timeout rather than a silent hang.

After ``os.fork`` the child starts with no loop and no thread; the next call starts fresh ones.

The opt-in ``async.mode = "nest"`` runs sync calls on the caller's own running loop through
nest_asyncio, for stores whose connections are bound to that loop. nest_asyncio is applied only then,
only to that loop, never at import.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from zarrlayered.core import config as _config
from zarrlayered.errors import SyncError

__all__ = [
    "concurrency_limit",
    "executor",
    "get_loop",
    "in_library_loop",
    "run_blocking",
    "sync",
    "sync_iter",
]

logger = logging.getLogger("zarrlayered.sync")

T = TypeVar("T")
P = ParamSpec("P")


class _BridgeState:
    """Everything the bridge owns; replaced wholesale in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.executor_size = 0
        # Every loop this library runs (the IO loop and nested ones).
        self.library_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self.semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, asyncio.Semaphore]] = (
            weakref.WeakKeyDictionary()
        )


_state = _BridgeState()
_nested_counter = itertools.count(1)


def _reset_after_fork() -> None:
    global _state
    _state = _BridgeState()


os.register_at_fork(after_in_child=_reset_after_fork)


def _run_loop_forever(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(started.set)
    try:
        loop.run_forever()
    finally:  # pragma: no cover - the daemon thread normally lives as long as the process
        loop.close()


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the library's IO event loop, starting its thread on first use."""
    state = _state
    loop = state.loop
    if loop is not None and state.thread is not None and state.thread.is_alive():
        return loop
    with state.lock:
        if state.loop is None or state.thread is None or not state.thread.is_alive():
            new_loop = asyncio.new_event_loop()
            started = threading.Event()
            thread = threading.Thread(
                target=_run_loop_forever, args=(new_loop, started), name="zarrlayered-io", daemon=True
            )
            state.library_loops.add(new_loop)
            thread.start()
            started.wait()
            state.loop, state.thread = new_loop, thread
            logger.debug("started IO loop thread %s", thread.name)
        assert state.loop is not None
        return state.loop


def in_library_loop() -> bool:
    """True when the calling thread is running one of the library's own event loops."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running in _state.library_loops


def executor() -> concurrent.futures.ThreadPoolExecutor:
    """The shared worker pool for blocking store calls and CPU-heavy codecs."""
    state = _state
    size = _config.max_workers()
    pool = state.executor
    if pool is not None and state.executor_size == size:
        return pool
    with state.lock:
        if state.executor is None or state.executor_size != size:
            old = state.executor
            state.executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=size, thread_name_prefix="zarrlayered-worker"
            )
            state.executor_size = size
            if old is not None:
                old.shutdown(wait=False)
        return state.executor


def concurrency_limit() -> asyncio.Semaphore:
    """The semaphore of the running loop that bounds store operations in flight (``async.concurrency``).

    Only the store layer acquires it, once per operation, so nested acquisition cannot deadlock.
    """
    loop = asyncio.get_running_loop()
    limit = _config.concurrency()
    entry = _state.semaphores.get(loop)
    if entry is None or entry[0] != limit:
        entry = (limit, asyncio.Semaphore(limit))
        _state.semaphores[loop] = entry
    return entry[1]


async def run_blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call in the shared worker pool under the global concurrency limit."""
    loop = asyncio.get_running_loop()
    async with concurrency_limit():
        return await loop.run_in_executor(executor(), functools.partial(fn, *args, **kwargs))


def _resolve_timeout(timeout: float | None) -> float | None:
    return timeout if timeout is not None else _config.timeout()


def _timeout_error(timeout: float | None) -> TimeoutError:
    return TimeoutError(
        f"zarrlayered call did not finish within {timeout} s (set by the timeout argument or "
        "config 'async.timeout'); the operation was cancelled"
    )


def _run_nested(coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
    """Run ``coro`` on a fresh loop in a helper thread while the calling loop waits."""
    box: dict[str, Any] = {}

    def runner() -> None:
        loop = asyncio.new_event_loop()
        _state.library_loops.add(loop)
        try:
            asyncio.set_event_loop(loop)
            box["result"] = loop.run_until_complete(asyncio.wait_for(coro, timeout))
        except BaseException as exc:
            box["error"] = exc
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=runner, name=f"zarrlayered-nested-{next(_nested_counter)}", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        error = box["error"]
        if isinstance(error, TimeoutError):
            raise _timeout_error(timeout) from error
        raise error
    return box["result"]  # type: ignore[no-any-return]


def _run_on_callers_loop(coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop, timeout: float | None) -> T:
    import nest_asyncio  # opt-in only: imported and applied when async.mode == "nest"

    nest_asyncio.apply(loop)
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def sync(coro: Awaitable[T], timeout: float | None = None) -> T:
    """Run an awaitable to completion from synchronous code and return its result.

    Parameters
    ----------
    coro
        The coroutine (or other awaitable) to run.
    timeout
        Seconds to wait before the work is cancelled and :class:`TimeoutError` raised. Defaults to
        config ``async.timeout`` (no limit unless set).

    Returns
    -------
    The awaitable's result; its exception, if it raised, is re-raised in the caller.
    """
    work: Coroutine[Any, Any, T] = coro if asyncio.iscoroutine(coro) else _as_coroutine(coro)
    limit = _resolve_timeout(timeout)
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None

    if running is not None and running in _state.library_loops:
        logger.debug("re-entrant sync call: running nested")
        return _run_nested(work, limit)

    if running is not None and _config.parse_async_mode(_config.config.get("async.mode")) == "nest":
        return _run_on_callers_loop(work, running, limit)

    future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(work, get_loop())
    try:
        return future.result(limit)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()
        raise _timeout_error(limit) from exc
    except BaseException:  # KeyboardInterrupt while waiting: stop the work, hand control back
        future.cancel()
        raise


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _as_coroutine(awaitable: Awaitable[T]) -> Coroutine[Any, Any, T]:
    if not hasattr(awaitable, "__await__"):
        raise TypeError(f"sync() needs a coroutine or awaitable, got {type(awaitable).__name__}")
    return _await(awaitable)


def sync_iter(iterator: AsyncIterator[T], timeout: float | None = None) -> list[T]:
    """Drain an async iterator through :func:`sync` and return its items as a list."""

    async def collect() -> list[T]:
        return [item async for item in iterator]

    return sync(collect(), timeout)


def require_not_nested(what: str) -> None:
    """Raise :class:`SyncError` when called inside a nested sync call (used by loop-bound resources)."""
    if in_library_loop() and threading.current_thread().name.startswith("zarrlayered-nested"):
        raise SyncError(
            f"{what} is bound to the zarrlayered IO loop and cannot be used from a re-entrant sync call; "
            "await the async API (AsyncArray/AsyncGroup) inside coroutines instead of the sync one"
        )

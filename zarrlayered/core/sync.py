"""The sync bridge: run the async engine from synchronous code.

One IO event loop runs in a daemon thread named ``zarrlayered-io``, started on first use. :func:`sync`
hands it a coroutine and blocks the caller until the result (or the exception, re-raised as is) comes
back. This works whatever the calling thread is doing, including running an event loop of its own (a
Jupyter cell, an async web handler): the caller's loop is simply blocked for the duration, as any
blocking call would.

Where a call runs:

* From a thread with no running loop, or one running a foreign loop: on the IO loop.
* Re-entrant calls — a coroutine running on one of the library's loops calls a sync API, which calls
  :func:`sync` — cannot wait on the loop they are running on. They run *nested*: on a fresh event loop
  in a helper thread, while the calling loop waits (to any depth). Work bound to the blocked loop (an
  asyncio primitive or a future created on it) cannot run there; it ends in
  :class:`~zarrlayered.errors.SyncError` naming the fix rather than in a silent hang.
* From a worker thread of the shared pool (a blocking call made through :func:`run_blocking` that itself
  uses a sync API), or while the IO loop is blocked by a nested call: on a fresh loop in the calling
  thread. Waiting for the IO loop there could deadlock (all workers waiting for work that needs a worker,
  or for a loop that waits for them).
* With the opt-in ``async.mode = "nest"``, from a thread running a foreign loop: on that very loop,
  through nest_asyncio, for work bound to the caller's loop. nest_asyncio is imported and applied only
  then, only to that loop, never at import.

A time limit (the ``timeout`` argument, else config ``async.timeout``) cancels the work — its ``finally``
blocks have run when :class:`TimeoutError` reaches the caller. A :class:`KeyboardInterrupt` while the
caller waits cancels the work the same way and is re-raised.

:func:`run_blocking` runs a blocking call in the shared worker pool under one process-wide limit on
calls in flight (config ``async.concurrency``), whichever event loop awaits it.

After ``os.fork`` the child starts with no loop, no thread and no pool; the next call starts fresh ones.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, cast

from zarrlayered.core import config as _config
from zarrlayered.errors import SyncError

__all__ = [
    "concurrency_limit",
    "executor",
    "get_loop",
    "in_library_loop",
    "require_not_nested",
    "run_blocking",
    "sync",
    "sync_iter",
]

logger = logging.getLogger("zarrlayered.sync")

T = TypeVar("T")
P = ParamSpec("P")

#: Seconds the caller keeps waiting for cancelled work to unwind before it gives up on it.
_GRACE = 2.0


class _Limiter:
    """A counting limit shared by every event loop of the process (config ``async.concurrency``).

    Waiters are served in order; a slot released in one thread wakes a waiter on any loop. The limit is
    read at each acquisition, so a changed setting takes effect for new work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limit = 1
        self._in_flight = 0
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = collections.deque()
        #: Tasks holding a slot through :func:`concurrency_limit` (their own nested acquisitions are free).
        self.holders: set[asyncio.Task[Any]] = set()

    @property
    def in_flight(self) -> int:
        """Slots taken right now."""
        return self._in_flight

    def _wake_locked(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            loop, waiter = self._waiters.popleft()
            self._in_flight += 1
            try:
                loop.call_soon_threadsafe(self._grant, waiter)
            except RuntimeError:  # that loop is closed: its waiter is gone
                self._in_flight -= 1

    def _grant(self, waiter: asyncio.Future[None]) -> None:
        if waiter.cancelled():
            self.release()
        else:
            waiter.set_result(None)

    async def acquire(self) -> None:
        """Wait for a slot and take it."""
        limit = _config.concurrency()
        loop = asyncio.get_running_loop()
        with self._lock:
            self._limit = limit
            self._wake_locked()
            if not self._waiters and self._in_flight < limit:
                self._in_flight += 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            entry = (loop, waiter)
            self._waiters.append(entry)
        try:
            await waiter
        except BaseException:
            with self._lock:
                queued = entry in self._waiters
                if queued:
                    self._waiters.remove(entry)
            if not queued and waiter.done() and not waiter.cancelled():
                self.release()  # granted, but cancelled before it could be used
            raise

    def release(self) -> None:
        """Give a slot back (from any thread)."""
        with self._lock:
            self._in_flight -= 1
            self._wake_locked()


class _BridgeState:
    """Everything the bridge owns; replaced wholesale in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.executor_size = 0
        self.limiter = _Limiter()
        #: Nested calls currently blocking the IO loop (only the IO thread changes it).
        self.io_blocked = 0
        #: Every loop this library runs (the IO loop, nested and in-place ones).
        self.library_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


class _ThreadRole(threading.local):
    worker = False


_state = _BridgeState()
_role = _ThreadRole()
_nested_counter = itertools.count(1)


def _reset_after_fork() -> None:
    global _state
    _state = _BridgeState()
    _role.worker = False  # the forking thread is the child's main thread, whatever it was in the parent


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
            logger.debug("started IO loop thread %s in process %d", thread.name, os.getpid())
        assert state.loop is not None
        return state.loop


def in_library_loop() -> bool:
    """True when the calling thread is running one of the library's own event loops."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return running in _state.library_loops


def _mark_worker() -> None:
    _role.worker = True


def executor() -> concurrent.futures.ThreadPoolExecutor:
    """The shared worker pool for blocking store calls and CPU-heavy codecs (``threading.max_workers``)."""
    state = _state
    size = _config.max_workers()
    pool = state.executor
    if pool is not None and state.executor_size == size:
        return pool
    with state.lock:
        if state.executor is None or state.executor_size != size:
            old = state.executor
            state.executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=size, thread_name_prefix="zarrlayered-worker", initializer=_mark_worker
            )
            state.executor_size = size
            if old is not None:
                old.shutdown(wait=False)
        return state.executor


class _Slot:
    """One use of the process-wide concurrency limit, as an async context manager."""

    __slots__ = ("_acquired", "_limiter", "_task")

    def __init__(self, limiter: _Limiter) -> None:
        self._limiter = limiter
        self._acquired = False
        self._task: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is not None and task in self._limiter.holders:
            return  # this task already holds a slot: nested use is free (and cannot deadlock)
        await self._limiter.acquire()
        self._acquired, self._task = True, task
        if task is not None:
            self._limiter.holders.add(task)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._acquired:
            self._acquired = False
            if self._task is not None:
                self._limiter.holders.discard(self._task)
            self._limiter.release()


def concurrency_limit() -> contextlib.AbstractAsyncContextManager[None]:
    """A slot of the process-wide limit on operations in flight (config ``async.concurrency``).

    Use as ``async with concurrency_limit(): ...`` once per store operation. The limit is shared by every
    event loop and thread of the process; a task that already holds a slot (directly or through
    :func:`run_blocking`) does not take a second one.
    """
    return _Slot(_state.limiter)


async def run_blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call in the shared worker pool under the process-wide concurrency limit.

    The slot is held until ``fn`` has really returned, even when the awaiting task is cancelled, so
    ``async.concurrency`` bounds the blocking calls in flight. Called on a worker thread of the pool
    (whose own slot is already taken), ``fn`` runs right there.
    """
    if _role.worker:
        return fn(*args, **kwargs)
    pool = executor()
    call = functools.partial(fn, *args, **kwargs)
    limiter = _state.limiter
    task = asyncio.current_task()
    if task is not None and task in limiter.holders:
        return await asyncio.wrap_future(pool.submit(call))
    await limiter.acquire()
    try:
        future = pool.submit(call)
    except BaseException:
        limiter.release()
        raise
    future.add_done_callback(lambda _: limiter.release())
    return await asyncio.wrap_future(future)


def _timeout_error(timeout: float) -> TimeoutError:
    return TimeoutError(
        f"zarrlayered call did not finish within {timeout} s (set by the timeout argument or "
        "config 'async.timeout'); the operation was cancelled"
    )


async def _within(work: Coroutine[Any, Any, T], limit: float) -> T:
    scope = asyncio.timeout(limit)
    try:
        async with scope:
            return await work
    except TimeoutError as exc:
        if scope.expired():
            raise _timeout_error(limit) from exc
        raise  # the work's own TimeoutError, unchanged


def _guarded(work: Coroutine[Any, Any, T], limit: float | None) -> Coroutine[Any, Any, T]:
    return work if limit is None else _within(work, limit)


class _Call(Generic[T]):
    """One coroutine handed to the IO loop; the calling thread waits on :attr:`done`."""

    __slots__ = ("done", "error", "loop", "result", "task", "work")

    def __init__(self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> None:
        self.loop = loop
        self.work = work
        self.done = threading.Event()
        self.task: asyncio.Task[None] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        """Create the task (on the loop)."""
        try:
            self.task = self.loop.create_task(self._run())
        except BaseException as exc:  # pragma: no cover - create_task fails only on a closing loop
            self.work.close()
            self.error = exc
            self.done.set()

    async def _run(self) -> None:
        try:
            self.result = await self.work
        except BaseException as exc:  # everything goes back to the caller: SystemExit must not end the loop
            self.error = exc
        finally:
            self.done.set()

    def cancel(self) -> None:
        """Ask the loop to cancel the task (from any thread)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to cancel
            self.loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


def _run_on_io_loop(work: Coroutine[Any, Any, T], limit: float | None) -> T:
    loop = get_loop()
    call = _Call(loop, _guarded(work, limit))
    try:
        loop.call_soon_threadsafe(call.start)
    except BaseException:  # pragma: no cover - the IO loop never closes while its thread lives
        call.work.close()
        raise
    try:
        # The loop enforces the limit; the extra grace covers work that ignores its cancellation.
        finished = call.done.wait(None if limit is None else limit + _GRACE)
    except BaseException:  # KeyboardInterrupt while waiting: stop the work, let it unwind, hand back
        call.cancel()
        call.done.wait(_GRACE)
        raise
    if not finished:
        call.cancel()
        assert limit is not None
        raise _timeout_error(limit)
    error, call.error = call.error, None
    if error is not None:
        raise error
    return cast(T, call.result)


def _run_in_place(work: Coroutine[Any, Any, T], limit: float | None) -> T:
    """Run on a fresh library loop in the calling thread (which runs no loop)."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        _state.library_loops.add(runner.get_loop())
        return runner.run(_guarded(work, limit))


_LOOP_BINDING_MESSAGES = ("attached to a different loop", "bound to a different event loop")


def _run_nested(work: Coroutine[Any, Any, T], limit: float | None, running: asyncio.AbstractEventLoop) -> T:
    """Run ``work`` on a fresh loop in a helper thread while the calling (library) loop waits."""
    box: list[tuple[bool, Any]] = []

    def runner() -> None:
        try:
            box.append((True, _run_in_place(work, limit)))
        except BaseException as exc:
            box.append((False, exc))

    state = _state
    blocks_io = running is state.loop
    thread = threading.Thread(target=runner, name=f"zarrlayered-nested-{next(_nested_counter)}", daemon=True)
    logger.debug("re-entrant sync call: running nested in %s", thread.name)
    if blocks_io:
        state.io_blocked += 1
    try:
        thread.start()
        thread.join()
    finally:
        if blocks_io:
            state.io_blocked -= 1
    ok, value = box[0]
    if ok:
        return cast(T, value)
    if isinstance(value, RuntimeError) and any(text in str(value) for text in _LOOP_BINDING_MESSAGES):
        raise SyncError(
            "a re-entrant zarrlayered sync call (a sync API used inside a coroutine running on a zarrlayered "
            "event loop) ran nested on a fresh loop, but its work uses an object bound to the blocked outer "
            f"loop ({value}); inside coroutines, await the async API (AsyncArray, AsyncGroup, the store's "
            "async methods) instead of calling the sync one"
        ) from value
    raise value


def _run_on_callers_loop(coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop, limit: float | None) -> T:
    import nest_asyncio  # opt-in only: imported and applied when async.mode == "nest"

    nest_asyncio.apply(loop)
    return loop.run_until_complete(_guarded(coro, limit))


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _as_coroutine(awaitable: Awaitable[T]) -> Coroutine[Any, Any, T]:
    if asyncio.iscoroutine(awaitable):
        return awaitable
    if not hasattr(awaitable, "__await__"):
        raise TypeError(f"sync() needs a coroutine or awaitable, got {type(awaitable).__name__}")
    return _await(awaitable)


def sync(coro: Awaitable[T], timeout: float | None = None) -> T:
    """Run an awaitable to completion from synchronous code and return its result.

    Parameters
    ----------
    coro
        The coroutine (or other awaitable) to run.
    timeout
        Seconds after which the work is cancelled and :class:`TimeoutError` raised. Defaults to config
        ``async.timeout`` (no limit unless set).

    Returns
    -------
    T
        The awaitable's result.

    Raises
    ------
    BaseException
        Whatever the awaitable raised, re-raised unchanged in the caller.
    TimeoutError
        The time limit passed; the work has been cancelled.
    KeyboardInterrupt
        Interrupted while waiting; the work has been cancelled.
    SyncError
        A re-entrant call whose work is bound to the blocked outer loop (the message names the fix).
    ValueError
        A bad ``async.timeout`` or ``async.mode`` setting (named in the message).
    """
    work = _as_coroutine(coro)
    try:
        limit = timeout if timeout is not None else _config.timeout()
        mode = _config.async_mode()
    except BaseException:
        work.close()
        raise
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None

    if running is not None:
        if running in _state.library_loops:
            return _run_nested(work, limit, running)
        if mode == "nest":
            return _run_on_callers_loop(work, running, limit)
    elif _role.worker or _state.io_blocked:
        return _run_in_place(work, limit)
    return _run_on_io_loop(work, limit)


def sync_iter(iterator: AsyncIterator[T], timeout: float | None = None) -> list[T]:
    """Drain an async iterator through :func:`sync` and return its items as a list."""

    async def collect() -> list[T]:
        return [item async for item in iterator]

    return sync(collect(), timeout)


def require_not_nested(what: str) -> None:
    """Raise :class:`SyncError` when called on a nested or in-place library loop (not the IO loop).

    Resources bound to the IO loop (a network session, an asyncio primitive) call this before use, so a
    re-entrant call fails with advice instead of a loop-binding error or a hang.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    state = _state
    if running in state.library_loops and running is not state.loop:
        raise SyncError(
            f"{what} is bound to the zarrlayered IO loop and cannot be used from a re-entrant sync call; "
            "await the async API (AsyncArray/AsyncGroup) inside coroutines instead of the sync one"
        )

"""The sync bridge (zarrlayered.core.sync): the IO loop thread, re-entrancy, fork, threads, timeouts,
interrupts, the opt-in nest mode and the global limit on blocking calls."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered.core.config import config
from zarrlayered.core.sync import concurrency_limit, get_loop, in_library_loop, run_blocking, sync, sync_iter
from zarrlayered.errors import SyncError

REPO = Path(__file__).resolve().parents[2]
FORK_WARNING = "ignore:.*multi-threaded.*fork.*:DeprecationWarning"


def run_python(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports this checkout; fail on a non-zero exit."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZARRLAYERED_")}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


@pytest.fixture(autouse=True)
def config_untouched() -> Iterator[None]:
    before = copy.deepcopy(config.config)
    yield
    assert config.config == before, "a test left the configuration changed"


async def add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def thread_name() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


class Boom(Exception):
    pass


# -- basics -----------------------------------------------------------------------------------------------


def test_returns_result_from_named_daemon_io_thread() -> None:
    assert sync(add(2, 3)) == 5
    assert sync(thread_name()) == "zarrlayered-io"
    io_threads = [t for t in threading.enumerate() if t.name == "zarrlayered-io"]
    assert len(io_threads) == 1
    assert io_threads[0].daemon
    assert get_loop() is get_loop()


def test_io_thread_is_started_lazily_and_only_once() -> None:
    proc = run_python(
        """
        import asyncio, threading
        import zarrlayered

        def io_threads():
            return [t for t in threading.enumerate() if t.name == "zarrlayered-io"]

        assert io_threads() == [], "IO thread started at import"
        async def one():
            return 1
        results = [zarrlayered.sync(one()) for _ in range(50)]
        threads = [threading.Thread(target=lambda: zarrlayered.sync(one())) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert results == [1] * 50
        assert len(io_threads()) == 1 and io_threads()[0].daemon
        print("OK")
        """
    )
    assert proc.stdout.strip() == "OK"


def test_exception_is_reraised_unchanged() -> None:
    raised: list[BaseException] = []

    async def fail() -> None:
        await asyncio.sleep(0)
        error = Boom("disk on fire: key 'c/0/0'")
        raised.append(error)
        raise error

    with pytest.raises(Boom, match=r"disk on fire: key 'c/0/0'") as info:
        sync(fail())
    assert info.value is raised[0]
    assert type(info.value) is Boom

    async def key_error() -> None:
        raise KeyError("zarr.json")

    with pytest.raises(KeyError) as kinfo:
        sync(key_error())
    assert kinfo.value.args == ("zarr.json",)


def test_system_exit_and_keyboard_interrupt_from_the_work_reach_the_caller() -> None:
    loop = get_loop()

    async def leave() -> None:
        await asyncio.sleep(0)
        raise SystemExit(3)

    async def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as info:
        sync(leave(), timeout=5)
    assert info.value.code == 3
    with pytest.raises(KeyboardInterrupt):
        sync(interrupt(), timeout=5)
    assert get_loop() is loop  # the IO loop survived both
    assert sync(thread_name(), timeout=5) == "zarrlayered-io"


def test_accepts_awaitables_and_refuses_other_objects() -> None:
    class Awaitable:
        def __await__(self) -> Any:
            return add(1, 1).__await__()

    assert sync(Awaitable()) == 2
    with pytest.raises(TypeError, match=r"coroutine or awaitable, got int"):
        sync(42)  # type: ignore[arg-type]


def test_sync_iter_drains_an_async_iterator() -> None:
    async def numbers() -> Any:
        for i in range(5):
            await asyncio.sleep(0)
            yield i

    assert sync_iter(numbers()) == [0, 1, 2, 3, 4]


def test_public_name() -> None:
    assert zarrlayered.sync is sync
    assert "sync" in zarrlayered.__all__


# -- callers that run a loop of their own -------------------------------------------------------------------


def test_works_inside_asyncio_run() -> None:
    async def main() -> tuple[int, str, bool]:
        # The caller's loop is blocked for the duration, like any blocking call; the work runs on the IO loop.
        return sync(add(20, 22)), sync(thread_name()), in_library_loop()

    assert asyncio.run(main()) == (42, "zarrlayered-io", False)


async def test_works_inside_a_pytest_asyncio_coroutine() -> None:
    assert sync(add(1, 2)) == 3


# -- re-entrant calls ---------------------------------------------------------------------------------------


def sync_api(depth: int) -> list[str]:
    """A sync API built on sync(): the shape of Array.__getitem__."""
    return sync(level(depth), timeout=20)


async def level(depth: int) -> list[str]:
    here = threading.current_thread().name
    if depth == 0:
        blocking_thread = await run_blocking(lambda: threading.current_thread().name)
        return [here, blocking_thread]
    return [here, *sync_api(depth - 1)]


def test_reentrant_call_runs_nested() -> None:
    names = sync_api(1)
    assert names[0] == "zarrlayered-io"
    assert names[1].startswith("zarrlayered-nested-")
    assert names[2].startswith("zarrlayered-worker")


@pytest.mark.parametrize("from_running_loop", [False, True])
def test_reentrant_calls_three_levels_deep(from_running_loop: bool) -> None:
    if from_running_loop:

        async def main() -> list[str]:
            return sync_api(3)

        names = asyncio.run(main())
    else:
        names = sync_api(3)
    assert names[0] == "zarrlayered-io"
    nested = names[1:4]
    assert all(name.startswith("zarrlayered-nested-") for name in nested)
    assert len(set(nested)) == 3
    assert names[4].startswith("zarrlayered-worker")


def test_reentrant_call_reraises_and_times_out_like_a_plain_one() -> None:
    async def outer() -> list[str]:
        seen = []
        try:
            sync(add(1, "x"))  # type: ignore[arg-type]
        except TypeError as exc:
            seen.append(f"TypeError: {exc}")
        start = time.monotonic()
        try:
            sync(asyncio.sleep(10), timeout=0.2)
        except TimeoutError as exc:
            seen.append(f"timeout after {time.monotonic() - start:.1f}: {'async.timeout' in str(exc)}")
        return seen

    seen = sync(outer(), timeout=10)
    assert seen[0].startswith("TypeError: unsupported operand")
    assert seen[1] in ("timeout after 0.2: True", "timeout after 0.3: True")


def test_reentrant_call_on_an_object_bound_to_the_blocked_loop_raises_sync_error() -> None:
    async def outer() -> None:
        bound = asyncio.get_running_loop().create_future()  # lives on the IO loop, which the nested call blocks

        async def inner() -> Any:
            return await bound

        sync(inner(), timeout=5)

    start = time.monotonic()
    with pytest.raises(SyncError, match=r"await the async API") as info:
        sync(outer(), timeout=10)
    assert time.monotonic() - start < 3
    assert isinstance(info.value, RuntimeError)
    assert "different loop" in str(info.value)


def test_blocking_call_in_a_nested_call_may_use_the_sync_api() -> None:
    # While a nested call blocks the IO loop, a thread it waits for must not queue work on the IO loop.
    async def outer() -> tuple[list[str], str, str]:
        def from_worker() -> str:
            return sync(thread_name())

        def from_foreign_thread() -> str:
            return sync(thread_name())

        async def nested() -> tuple[str, str]:
            worker = await run_blocking(from_worker)
            foreign = await asyncio.get_running_loop().run_in_executor(None, from_foreign_thread)
            return worker, foreign

        worker, foreign = sync(nested(), timeout=10)
        return [threading.current_thread().name], worker, foreign

    names, worker, foreign = sync(outer(), timeout=15)
    assert names == ["zarrlayered-io"]
    assert worker.startswith("zarrlayered-worker")  # ran in place on the worker thread
    assert foreign.startswith("asyncio_")  # ran in place: the IO loop was blocked


def test_blocking_calls_that_use_the_sync_api_cannot_exhaust_the_pool() -> None:
    # Every worker blocks in sync() on work that itself needs a worker: this deadlocks unless a worker's
    # sync call runs in place.
    def blocking_store_call(i: int) -> tuple[int, str]:
        async def inner() -> int:
            return await run_blocking(lambda: i * 10)

        return sync(inner()), threading.current_thread().name

    async def many() -> list[tuple[int, str]]:
        return list(await asyncio.gather(*(run_blocking(blocking_store_call, i) for i in range(8))))

    with config.set({"threading.max_workers": 2, "async.concurrency": 2}):
        results = sync(many(), timeout=10)
    assert [value for value, _ in results] == [i * 10 for i in range(8)]
    assert all(name.startswith("zarrlayered-worker") for _, name in results)


# -- fork -----------------------------------------------------------------------------------------------------


def child_check(parent_loop_id: int) -> int:
    """Exit code 0 when sync() works in a forked child on a fresh loop and thread."""
    try:
        loop = get_loop()
        names = sync(level(1), timeout=10)
        pid_in_pool = sync(run_blocking(os.getpid), timeout=10)
        ok = (
            id(loop) != parent_loop_id
            and sync(add(40, 2), timeout=10) == 42
            and names[0] == "zarrlayered-io"
            and names[1].startswith("zarrlayered-nested-")
            and pid_in_pool == os.getpid()
        )
        return 0 if ok else 3
    except BaseException:
        return 4


def pool_task(n: int) -> tuple[int, int, str]:
    return os.getpid(), sync(add(n, n), timeout=10), sync(thread_name(), timeout=10)


def started_parent() -> int:
    assert sync(add(1, 1)) == 2
    assert sync(run_blocking(os.getpid)) == os.getpid()
    assert any(t.name == "zarrlayered-io" for t in threading.enumerate())
    return id(get_loop())


@pytest.mark.filterwarnings(FORK_WARNING)
def test_os_fork_child_gets_a_fresh_loop() -> None:
    parent_loop_id = started_parent()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 5
        try:
            code = child_check(parent_loop_id)
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung in sync()")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sync(add(1, 2)) == 3  # the parent's bridge is untouched


@pytest.mark.filterwarnings(FORK_WARNING)
def test_multiprocessing_fork_context() -> None:
    parent_loop_id = started_parent()
    ctx = multiprocessing.get_context("fork")
    processes = [ctx.Process(target=lambda: sys.exit(child_check(parent_loop_id))) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(20)
        if p.is_alive():
            p.kill()
            p.join()
            pytest.fail("a forked multiprocessing child hung in sync()")
        assert p.exitcode == 0


@pytest.mark.filterwarnings(FORK_WARNING)
def test_process_pool_executor_with_fork() -> None:
    started_parent()
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        results = list(pool.map(pool_task, range(6), timeout=20))
    assert [value for _, value, _ in results] == [2 * n for n in range(6)]
    assert all(pid != os.getpid() for pid, _, _ in results)
    assert all(name == "zarrlayered-io" for _, _, name in results)


def row_sum(args: tuple[str, int]) -> tuple[int, int]:
    url, row = args
    arr = zarrlayered.open_array(url, mode="r")
    return int(arr[row].sum()), sync(add(row, 0), timeout=10)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_arrays_on_an_async_store_in_forked_pool_workers(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'rows.zarr'}"  # an FsspecStore: reads go through the IO loop and worker pool
    rows = zarrlayered.create_array(url, shape=(4, 10), chunks=(1, 10), dtype="i8")
    rows[:] = np.arange(40).reshape(4, 10)
    assert not rows.store.supports_sync
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        results = list(pool.map(row_sum, [(url, row) for row in range(4)], timeout=30))
    assert results == [(int(rows[row].sum()), row) for row in range(4)]


# -- threads ----------------------------------------------------------------------------------------------------


def test_eight_threads_at_once() -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    results: dict[int, list[int]] = {}

    def worker(t: int) -> None:
        try:
            barrier.wait(5)
            results[t] = [sync(add(t * 1000, i)) for i in range(200)]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert results == {t: [t * 1000 + i for i in range(200)] for t in range(8)}


# -- timeouts ----------------------------------------------------------------------------------------------------


def cancellable_sleep(flags: list[str], seconds: float = 10) -> Any:
    async def sleeper() -> None:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            flags.append("cancelled")
            raise
        finally:
            flags.append("finally")

    return sleeper()


def test_timeout_raises_quickly_and_cancels_the_work() -> None:
    flags: list[str] = []
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"within 0.2 s .*async.timeout"):
        sync(cancellable_sleep(flags), timeout=0.2)
    assert time.monotonic() - start < 5  # the work sleeps 10 s: returning at all shows the timeout
    assert flags == ["cancelled", "finally"]  # already unwound when the caller gets the error

    with pytest.raises(TimeoutError):
        sync(asyncio.sleep(10), timeout=0.2)


def test_config_timeout_applies_without_argument() -> None:
    flags: list[str] = []
    with config.set({"async.timeout": 0.2}):
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=r"within 0.2 s"):
            sync(cancellable_sleep(flags))
        assert time.monotonic() - start < 5  # the work sleeps 10 s: returning at all shows the timeout
        assert sync(add(1, 1)) == 2  # fast work is unaffected
        with pytest.raises(TimeoutError, match=r"within 0.1 s"):
            sync(asyncio.sleep(10), timeout=0.1)  # the argument wins
    assert flags == ["cancelled", "finally"]
    assert sync(add(1, 1), timeout=5) == 2


def test_the_works_own_timeout_error_passes_unchanged() -> None:
    async def own() -> None:
        raise TimeoutError("the server said 504")

    with pytest.raises(TimeoutError, match=r"^the server said 504$"):
        sync(own())
    with pytest.raises(TimeoutError, match=r"^the server said 504$"):
        sync(own(), timeout=5)

    async def outer() -> None:
        sync(own())

    with pytest.raises(TimeoutError, match=r"^the server said 504$"):
        sync(outer())


# -- KeyboardInterrupt -------------------------------------------------------------------------------------------


def test_keyboard_interrupt_cancels_the_work() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else in this process")
    flags: list[str] = []
    started = threading.Event()

    async def long_job() -> None:
        started.set()
        await cancellable_sleep(flags)

    def interrupt() -> None:
        if started.wait(5):
            time.sleep(0.05)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    timer = threading.Thread(target=interrupt)
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            sync(long_job(), timeout=8)
    finally:
        timer.join()
    assert time.monotonic() - start < 3
    assert flags == ["cancelled", "finally"]
    assert sync(add(1, 1)) == 2  # the bridge still works


def test_ctrl_c_in_a_script() -> None:
    code = """
        import asyncio, sys
        import zarrlayered

        async def job():
            print("started", flush=True)
            try:
                await asyncio.sleep(20)
            finally:
                print("work cancelled", flush=True)

        try:
            zarrlayered.sync(job())
        except KeyboardInterrupt:
            print("KeyboardInterrupt in caller", flush=True)
            sys.exit(7)
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZARRLAYERED_")}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], env=base, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7
    assert out.splitlines() == ["work cancelled", "KeyboardInterrupt in caller"]


# -- nest mode -----------------------------------------------------------------------------------------------------


def test_default_mode_never_applies_nest_asyncio() -> None:
    proc = run_python(
        """
        import asyncio, sys
        import zarrlayered
        from zarrlayered.core.sync import get_loop

        original_run = asyncio.run

        async def one():
            await asyncio.sleep(0)
            return 1

        async def main():
            caller_loop = asyncio.get_running_loop()
            values = [zarrlayered.sync(one()) for _ in range(5)]

            async def reentrant():
                return zarrlayered.sync(one())

            values.append(zarrlayered.sync(reentrant()))
            return caller_loop, values

        caller_loop, values = asyncio.run(main())
        assert values == [1] * 6, values
        patched = {
            "nest_asyncio imported": "nest_asyncio" in sys.modules,
            "asyncio patched": hasattr(asyncio, "_nest_patched"),
            "asyncio.run replaced": asyncio.run is not original_run or asyncio.run.__module__ != "asyncio.runners",
            "caller loop patched": hasattr(caller_loop, "_nest_patched"),
            "IO loop patched": hasattr(get_loop(), "_nest_patched"),
            "new loop patched": hasattr(asyncio.new_event_loop(), "_nest_patched"),
            "BaseEventLoop patched": hasattr(asyncio.BaseEventLoop, "_nest_patched"),
        }
        assert not any(patched.values()), patched
        print("OK")
        """
    )
    assert proc.stdout.strip() == "OK"


def test_nest_mode_runs_on_the_callers_loop() -> None:
    proc = run_python(
        """
        import asyncio, sys, time
        import zarrlayered

        async def main():
            loop = asyncio.get_running_loop()

            # Default mode: the work runs on the IO loop and cannot await the caller's objects.
            bound = loop.create_future()
            async def await_bound():
                return await bound
            try:
                zarrlayered.sync(await_bound(), timeout=5)
            except RuntimeError as exc:
                assert "different loop" in str(exc), exc
            else:
                raise AssertionError("default mode ran on the caller's loop")
            assert "nest_asyncio" not in sys.modules

            with zarrlayered.config.set({"async.mode": "nest"}):
                queue = asyncio.Queue()
                future = loop.create_future()
                loop.call_later(0.02, queue.put_nowait, 5)
                loop.call_later(0.04, future.set_result, 7)

                async def use_loop_bound_objects():
                    item = await queue.get()
                    return item + await future, asyncio.get_running_loop() is loop

                assert zarrlayered.sync(use_loop_bound_objects(), timeout=5) == (12, True)

                start = time.monotonic()
                try:
                    zarrlayered.sync(asyncio.sleep(10), timeout=0.1)
                except TimeoutError:
                    assert time.monotonic() - start < 5  # not the 10 s sleep
                else:
                    raise AssertionError("no timeout in nest mode")
            assert getattr(loop, "_nest_patched", False)

        asyncio.run(main())
        print("OK")
        """
    )
    assert proc.stdout.strip() == "OK"


# -- run_blocking and the global limit --------------------------------------------------------------------------------


class PeakCounter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.calls = 0

    def work(self, seconds: float) -> str:
        with self.lock:
            self.current += 1
            self.calls += 1
            self.peak = max(self.peak, self.current)
        try:
            time.sleep(seconds)
        finally:
            with self.lock:
                self.current -= 1
        return threading.current_thread().name


def test_run_blocking_runs_in_the_worker_pool_and_passes_arguments() -> None:
    def combine(a: int, b: int, *, scale: int) -> tuple[int, str]:
        return (a + b) * scale, threading.current_thread().name

    value, name = sync(run_blocking(combine, 1, 2, scale=10))
    assert value == 30
    assert name.startswith("zarrlayered-worker")

    def fail() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match=r"Input/output error"):
        sync(run_blocking(fail))


def test_concurrency_limit_bounds_run_blocking_calls_in_flight() -> None:
    counter = PeakCounter()

    async def many() -> list[str]:
        return list(await asyncio.gather(*(run_blocking(counter.work, 0.05) for _ in range(20))))

    with config.set({"async.concurrency": 3, "threading.max_workers": 8}):
        names = sync(many(), timeout=10)
    assert counter.calls == 20
    assert counter.peak == 3
    assert len(names) == 20


def test_concurrency_limit_is_shared_by_every_loop() -> None:
    counter = PeakCounter()

    async def some() -> None:
        await asyncio.gather(*(run_blocking(counter.work, 0.03) for _ in range(6)))

    with config.set({"async.concurrency": 3, "threading.max_workers": 12}):
        threads = [threading.Thread(target=asyncio.run, args=(some(),)) for _ in range(2)]
        for thread in threads:
            thread.start()
        sync(some(), timeout=10)
        for thread in threads:
            thread.join(10)
    assert counter.calls == 18
    assert counter.peak == 3


def test_a_cancelled_run_blocking_keeps_its_slot_until_the_call_returns() -> None:
    counter = PeakCounter()

    async def scenario() -> None:
        first = asyncio.ensure_future(run_blocking(counter.work, 0.2))
        await asyncio.sleep(0.05)
        first.cancel()
        queued = asyncio.ensure_future(run_blocking(counter.work, 0.01))
        await asyncio.sleep(0.01)
        queued.cancel()  # cancelled while waiting for the slot: must not take or leak it
        await run_blocking(counter.work, 0.01)
        with pytest.raises(asyncio.CancelledError):
            await first

    with config.set({"async.concurrency": 1}):
        sync(scenario(), timeout=5)
        assert counter.peak == 1
        assert counter.calls == 2
        assert sync(run_blocking(counter.work, 0), timeout=2).startswith("zarrlayered-worker")  # no slot leaked


def test_concurrency_limit_is_reentrant_within_a_task() -> None:
    counter = PeakCounter()

    async def store_operation() -> str:
        async with concurrency_limit():
            async with concurrency_limit():
                return await run_blocking(counter.work, 0.01)

    async def many() -> list[str]:
        return list(await asyncio.gather(*(store_operation() for _ in range(4))))

    with config.set({"async.concurrency": 1}):
        assert len(sync(many(), timeout=5)) == 4
    assert counter.peak == 1


def test_bad_settings_are_reported_when_used_and_the_work_is_closed() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with config.set({"async.timeout": -1}), pytest.raises(ValueError, match=r"'async.timeout'.*-1"):
            sync(add(1, 1))
        with config.set({"async.mode": "bogus"}), pytest.raises(ValueError, match=r"'async.mode'.*'bogus'"):
            sync(add(1, 1))
        with config.set({"async.concurrency": 0}), pytest.raises(ValueError, match=r"'async.concurrency'.*0"):
            sync(run_blocking(time.sleep, 0))
        with config.set({"threading.max_workers": 0}), pytest.raises(ValueError, match=r"'threading.max_workers'"):
            sync(run_blocking(time.sleep, 0))
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
    assert sync(run_blocking(time.sleep, 0)) is None

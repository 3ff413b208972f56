"""for_each: the synchronous driver's way of working on big chunks with several threads at once."""

from __future__ import annotations

import threading
from concurrent.futures import wait

import pytest

from zarrlayered.core import codec_pipeline
from zarrlayered.core.codec_pipeline import for_each
from zarrlayered.core.sync import executor


@pytest.fixture
def four_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work with four threads whatever the machine, so the parallel branch runs on any CI runner."""
    monkeypatch.setattr(codec_pipeline, "_threads", lambda: 4)


@pytest.mark.usefixtures("four_threads")
def test_every_item_is_handled_once() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def fn(item: int) -> None:
        with lock:
            seen.append(item)

    for_each(fn, range(500), parallel=True)
    assert sorted(seen) == list(range(500))


def test_inline_when_not_parallel() -> None:
    threads: set[int] = set()
    for_each(lambda _: threads.add(threading.get_ident()), range(50), parallel=False)
    assert threads == {threading.get_ident()}


@pytest.mark.usefixtures("four_threads")
def test_the_first_error_is_raised_and_stops_the_others() -> None:
    done: list[int] = []

    def fn(item: int) -> None:
        if item == 3:
            raise KeyError(f"chunk {item}")
        done.append(item)

    with pytest.raises(KeyError, match="chunk 3"):
        for_each(fn, range(10_000), parallel=True)
    assert len(done) < 10_000 - 1


@pytest.mark.usefixtures("four_threads")
def test_callers_on_every_pool_worker_do_not_deadlock() -> None:
    pool = executor()
    size = pool._max_workers
    started = threading.Barrier(size, timeout=10)
    totals: list[int] = []

    def caller() -> None:
        started.wait()  # every worker of the pool is now busy in a for_each of its own
        items: list[int] = []
        for_each(items.append, range(100), parallel=True)
        totals.append(len(items))

    futures = [pool.submit(caller) for _ in range(size)]
    finished, _ = wait(futures, timeout=30)
    assert len(finished) == size
    for future in futures:
        future.result()
    assert totals == [100] * size

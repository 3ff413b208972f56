from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.context import ForkServerContext

import pytest


@pytest.fixture(scope="session")
def ctx() -> Iterator[ForkServerContext]:
    """Processes forked from a server that has already imported the package (a fork takes milliseconds).

    The fork server starts once per test session; the worker modules of this folder are preloaded.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["numpy", "zarrlayered", "crash_workers", "concurrency_workers"])
    yield context

"""The configuration (zarrlayered.config / zarrlayered.core.config): defaults, scoped changes,
environment overrides and the errors a bad value gives when it is used."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import zarrlayered
from zarrlayered.core import config as cfg
from zarrlayered.core.config import config

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str]) -> str:
    """Run ``code`` in a fresh interpreter importing this checkout with ``env`` added; return its stdout."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZARRLAYERED_")}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(autouse=True)
def config_untouched() -> Iterator[None]:
    before = copy.deepcopy(config.config)
    yield
    assert config.config == before, "a test left the configuration changed"


def test_public_name() -> None:
    assert zarrlayered.config is config
    assert "config" in zarrlayered.__all__


def test_documented_defaults() -> None:
    assert config.get("async.concurrency") == 64
    assert config.get("async.timeout") is None
    assert config.get("async.mode") == "thread"
    assert config.get("threading.max_workers") is None
    assert config.get("array.write_empty_chunks") is False
    assert config.get("array.order") == "C"
    assert config.get("default_zarr_format") == 3
    assert config.get("codecs.allow_pickle") is False
    # and what the accessors make of them
    assert cfg.concurrency() == 64
    assert cfg.timeout() is None
    assert cfg.async_mode() == "thread"
    assert cfg.max_workers() == max(4, min(32, (os.cpu_count() or 1) + 4))
    assert cfg.write_empty_chunks() is False
    assert cfg.array_order() == "C"
    assert cfg.default_zarr_format() == 3
    assert cfg.allow_pickle() is False
    # every documented key is described in the module documentation
    for key in (
        "async.concurrency",
        "async.timeout",
        "async.mode",
        "threading.max_workers",
        "array.write_empty_chunks",
        "array.order",
        "default_zarr_format",
        "codecs.allow_pickle",
    ):
        assert f"``{key}``" in (cfg.__doc__ or ""), key


def test_set_as_context_manager_restores_values() -> None:
    with zarrlayered.config.set({"async.concurrency": 5, "array.write_empty_chunks": True}):
        assert config.get("async.concurrency") == 5
        assert cfg.concurrency() == 5
        assert cfg.write_empty_chunks() is True
        with config.set({"async.concurrency": 9}):
            assert cfg.concurrency() == 9
        assert cfg.concurrency() == 5
        assert config.get("async.mode") == "thread"  # untouched siblings stay
    assert config.get("async.concurrency") == 64
    assert config.get("array.write_empty_chunks") is False


def test_set_restores_after_an_exception_and_accepts_keywords() -> None:
    with pytest.raises(RuntimeError, match=r"inside"), config.set(async__timeout=2.5):
        assert cfg.timeout() == 2.5
        raise RuntimeError("inside")
    assert config.get("async.timeout") is None


def test_values_set_for_good_can_be_restored_by_hand() -> None:
    previous = config.get("default_zarr_format")
    config.set({"default_zarr_format": 2})
    try:
        assert cfg.default_zarr_format() == 2
    finally:
        config.set({"default_zarr_format": previous})
    assert cfg.default_zarr_format() == 3


def test_environment_overrides() -> None:
    out = run_python(
        """
        import json
        from zarrlayered import config
        from zarrlayered.core import config as cfg
        print(json.dumps({
            "concurrency": config.get("async.concurrency"),
            "write_empty_chunks": config.get("array.write_empty_chunks"),
            "mode": config.get("async.mode"),
            "timeout": cfg.timeout(),
            "default_zarr_format": cfg.default_zarr_format(),
            "accessors": [cfg.concurrency(), cfg.write_empty_chunks()],
            "untouched": config.get("codecs.allow_pickle"),
        }))
        """,
        env={
            "ZARRLAYERED_ASYNC__CONCURRENCY": "7",
            "ZARRLAYERED_ARRAY__WRITE_EMPTY_CHUNKS": "True",
            "ZARRLAYERED_ASYNC__MODE": "nest",
            "ZARRLAYERED_ASYNC__TIMEOUT": "1.5",
            "ZARRLAYERED_DEFAULT_ZARR_FORMAT": "2",
        },
    )
    assert json.loads(out) == {
        "concurrency": 7,
        "write_empty_chunks": True,
        "mode": "nest",
        "timeout": 1.5,
        "default_zarr_format": 2,
        "accessors": [7, True],
        "untouched": False,
    }


def test_environment_override_takes_effect_in_the_bridge() -> None:
    out = run_python(
        """
        import asyncio, threading, time
        import zarrlayered
        from zarrlayered.core.sync import run_blocking

        lock = threading.Lock()
        state = {"now": 0, "peak": 0}

        def work():
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.03)
            with lock:
                state["now"] -= 1

        async def many():
            await asyncio.gather(*(run_blocking(work) for _ in range(12)))

        zarrlayered.sync(many())
        print(state["peak"])
        try:
            zarrlayered.sync(asyncio.sleep(5))
        except TimeoutError as exc:
            print("timeout", "0.2" in str(exc))
        """,
        env={"ZARRLAYERED_ASYNC__CONCURRENCY": "2", "ZARRLAYERED_ASYNC__TIMEOUT": "0.2"},
    )
    assert out.split() == ["2", "timeout", "True"]


def test_bad_environment_value_is_reported_when_used() -> None:
    out = run_python(
        """
        import asyncio
        import zarrlayered
        try:
            zarrlayered.sync(asyncio.sleep(0))
        except ValueError as exc:
            print(exc)
        """,
        env={"ZARRLAYERED_ASYNC__MODE": "bogus"},
    )
    assert "'async.mode'" in out and "'bogus'" in out


BAD_VALUES: list[tuple[str, Any, Callable[[], Any]]] = [
    ("async.mode", "bogus", cfg.async_mode),
    ("async.mode", None, cfg.async_mode),
    ("async.concurrency", 0, cfg.concurrency),
    ("async.concurrency", -3, cfg.concurrency),
    ("async.concurrency", "8", cfg.concurrency),
    ("async.concurrency", True, cfg.concurrency),
    ("async.timeout", 0, cfg.timeout),
    ("async.timeout", "soon", cfg.timeout),
    ("async.timeout", float("nan"), cfg.timeout),
    ("threading.max_workers", 0, cfg.max_workers),
    ("threading.max_workers", 2.5, cfg.max_workers),
    ("array.write_empty_chunks", "maybe", cfg.write_empty_chunks),
    ("array.write_empty_chunks", 1, cfg.write_empty_chunks),
    ("array.order", "Z", cfg.array_order),
    ("default_zarr_format", 4, cfg.default_zarr_format),
    ("default_zarr_format", True, cfg.default_zarr_format),
    ("codecs.allow_pickle", "sure", cfg.allow_pickle),
]


@pytest.mark.parametrize(("key", "value", "accessor"), BAD_VALUES)
def test_bad_values_raise_value_error_naming_the_setting(key: str, value: Any, accessor: Callable[[], Any]) -> None:
    with config.set({key: value}), pytest.raises(ValueError) as info:
        accessor()
    assert f"'{key}'" in str(info.value)
    assert repr(value) in str(info.value)


def test_bad_values_are_reported_by_the_bridge() -> None:
    async def nothing() -> None:
        return None

    with config.set({"async.mode": "bogus"}), pytest.raises(ValueError, match=r"'async.mode'"):
        zarrlayered.sync(nothing())
    from zarrlayered.core.sync import run_blocking

    with config.set({"async.concurrency": 0}), pytest.raises(ValueError, match=r"'async.concurrency'"):
        zarrlayered.sync(run_blocking(print))


@pytest.mark.parametrize(("text", "expected"), [("True", True), ("false", False), ("1", True), (" off ", False)])
def test_flags_given_as_text(text: str, expected: bool) -> None:
    with config.set({"array.write_empty_chunks": text, "codecs.allow_pickle": text}):
        assert cfg.write_empty_chunks() is expected
        assert cfg.allow_pickle() is expected


def test_parse_async_mode() -> None:
    assert cfg.parse_async_mode("nest") == "nest"
    assert cfg.parse_async_mode("thread") == "thread"
    with pytest.raises(ValueError, match=r"'async.mode' must be one of \('thread', 'nest'\), got 'Thread'"):
        cfg.parse_async_mode("Thread")

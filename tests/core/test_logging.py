"""Logging: one logger per layer and zarrlayered.set_log_level."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import zarrlayered

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("zarrlayered.array", "zarrlayered.group", "zarrlayered.store", "zarrlayered.codec")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    names = ("zarrlayered", *zarrlayered.LOGGER_NAMES)
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = {name: list(logging.getLogger(name).handlers) for name in names}
    yield
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(levels[name])
        logger.handlers[:] = handlers[name]


def test_layer_loggers_exist() -> None:
    for name in LAYERS:
        assert name in zarrlayered.LOGGER_NAMES
        assert name in logging.Logger.manager.loggerDict
        logger = logging.getLogger(name)
        assert logger.parent is not None and logger.parent.name == "zarrlayered"
        assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_set_log_level_debug_makes_records_show(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="")  # capture everything that reaches the root
    zarrlayered.set_log_level("WARNING")
    for name in LAYERS:
        logging.getLogger(name).debug("hidden %s", name)
    assert [r for r in caplog.records if r.name.startswith("zarrlayered")] == []

    zarrlayered.set_log_level("DEBUG")
    for name in LAYERS:
        logging.getLogger(name).debug("shown %s", name)
    seen = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("zarrlayered")]
    assert seen == [(name, logging.DEBUG, f"shown {name}") for name in LAYERS]
    assert all(logging.getLogger(name).getEffectiveLevel() == logging.DEBUG for name in LAYERS)


def test_set_log_level_accepts_numbers_and_any_case() -> None:
    zarrlayered.set_log_level(logging.INFO)
    assert logging.getLogger("zarrlayered.store").getEffectiveLevel() == logging.INFO
    zarrlayered.set_log_level("error")
    assert logging.getLogger("zarrlayered.codec").getEffectiveLevel() == logging.ERROR
    zarrlayered.set_log_level("Debug")
    assert logging.getLogger("zarrlayered.array").isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize("level", ["bogus", "", "LOUD", -1, True, 2.5])
def test_bad_level_raises_value_error(level: object) -> None:
    zarrlayered.set_log_level("WARNING")
    with pytest.raises(ValueError, match="level") as info:
        zarrlayered.set_log_level(level)  # type: ignore[arg-type]
    assert repr(level) in str(info.value)
    assert logging.getLogger("zarrlayered.store").level == logging.WARNING  # unchanged


def test_records_show_on_stderr_in_a_plain_script() -> None:
    code = """
        import asyncio, logging
        import zarrlayered
        logging.getLogger("zarrlayered.store").debug("not yet")
        zarrlayered.set_log_level("DEBUG")
        zarrlayered.set_log_level("DEBUG")  # a second call adds no second handler
        logging.getLogger("zarrlayered.store").debug("reading %s", "c/0/0")
        logging.getLogger("zarrlayered.codec").info("decoded")
        zarrlayered.sync(asyncio.sleep(0))
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZARRLAYERED_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "not yet" not in proc.stderr
    assert sum("zarrlayered.store DEBUG reading c/0/0" in line for line in lines) == 1
    assert sum("zarrlayered.codec INFO decoded" in line for line in lines) == 1
    assert any("zarrlayered.sync DEBUG started IO loop thread zarrlayered-io" in line for line in lines)

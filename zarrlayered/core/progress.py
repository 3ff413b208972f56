"""Progress bars for long operations (copies, migrations, Dask writes), on only where someone is watching.

Every long operation takes ``progress=``: True always shows a bar, False never does, None (the default)
shows one when the session is interactive: standard error is a terminal, or the code runs in a Jupyter
kernel. Scripts, pipes, cron jobs and test runs therefore stay quiet unless asked. The bar is
:mod:`tqdm`'s, written to standard error (in a Jupyter kernel with ``ipywidgets`` installed, tqdm's
notebook widget).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import TracebackType
from typing import IO, Any, Protocol

__all__ = ["NullProgress", "ProgressBar", "in_jupyter_kernel", "progress_bar", "progress_enabled"]


class ProgressBar(Protocol):
    """What the operations use of a bar: tqdm's ``update``, ``close`` and context manager."""

    def update(self, n: float = 1) -> object: ...

    def close(self) -> None: ...

    def __enter__(self) -> ProgressBar: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> object: ...


class NullProgress:
    """A bar that shows nothing (``progress`` off): every call does nothing.

    Attributes
    ----------
    n : float
        The progress counted so far (kept, as tqdm does, so callers may read it).
    """

    def __init__(self) -> None:
        self.n: float = 0

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units (nothing is shown)."""
        self.n += n

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def in_jupyter_kernel() -> bool:
    """Whether this code runs inside a Jupyter (IPython) kernel.

    True when ``ipykernel`` has been imported and the running IPython shell has a kernel; importing
    ipykernel alone (as some libraries do) is not enough.
    """
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # an IPython in an odd state is not a kernel we can draw in
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _stream_is_tty(stream: IO[str] | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def progress_enabled(progress: bool | None, file: IO[str] | None = None) -> bool:
    """Whether to show a bar: ``progress`` itself when True/False; for None, whether the session is interactive.

    Parameters
    ----------
    progress
        True (always), False (never) or None (auto: when ``file`` -- standard error by default -- is a
        terminal, or when running in a Jupyter kernel).
    file
        The stream the bar would be written to; None for ``sys.stderr``.

    Raises
    ------
    TypeError
        When ``progress`` is not True, False or None.
    """
    if progress is None:
        return _stream_is_tty(sys.stderr if file is None else file) or in_jupyter_kernel()
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (auto), got {type(progress).__name__}: {progress!r}")
    return progress


def progress_bar(
    total: float | None,
    desc: str,
    progress: bool | None,
    *,
    unit: str = "B",
    file: IO[str] | None = None,
    **tqdm_kwargs: Any,
) -> ProgressBar:
    """A tqdm bar counting to ``total``, or a :class:`NullProgress` when ``progress`` says no bar.

    Parameters
    ----------
    total
        The amount of work (in ``unit``), or None when it is not known in advance.
    desc
        The label in front of the bar (``"copy"``, ``"migrate"``, ...).
    progress
        True, False or None (auto); see :func:`progress_enabled`.
    unit
        What is counted: ``"B"`` (bytes, shown scaled: kB, MB...) or a word (``"key"``, ``"node"``).
    file
        The stream to draw on; None for ``sys.stderr`` as it is at the time of the call.
    **tqdm_kwargs
        Passed to :class:`tqdm.tqdm` (``leave=``, ``mininterval=``, ...).

    Returns
    -------
    ProgressBar
        Use it as a context manager and call ``update(n)`` as work is done.

    Examples
    --------
    >>> with progress_bar(3, "copy", progress=False, unit="key") as bar:
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    """
    if not progress_enabled(progress, file):
        return NullProgress()
    stream = sys.stderr if file is None else file
    options: dict[str, Any] = {"total": total, "desc": desc, "unit": unit, "unit_scale": unit == "B",
                               "dynamic_ncols": True, **tqdm_kwargs}
    if file is None and in_jupyter_kernel() and importlib.util.find_spec("ipywidgets") is not None:
        notebook_bar: ProgressBar = importlib.import_module("tqdm.notebook").tqdm(**options)
        return notebook_bar
    bar: ProgressBar = importlib.import_module("tqdm").tqdm(file=stream, **options)  # tqdm ships no type stubs
    return bar

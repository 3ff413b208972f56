"""The ``zarrlayered`` command line (also ``python -m zarrlayered``): info, tree, migrate, copy, demo.

Every failure prints one line, ``zarrlayered <command>: error: <what>``, on stderr and exits 1 (argparse's
own usage errors exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from zarrlayered.core.progress import ProgressBar

__all__ = ["main", "parse_compressor"]

_PROGRESS_BYTES = 64 * 2**20  # copies at least this big get a progress bar (on a terminal)
_SLAB_BYTES = 32 * 2**20  # copy in slabs of about this many bytes
_COMPRESSORS = ("zstd", "gzip", "blosc", "zlib", "lz4", "none")


class CLIError(Exception):
    """A problem to print as one line (the command line's own checks)."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zarrlayered", description="Zarr V2 and V3 from the command line.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = commands.add_parser("info", help="describe an array (format, shape, dtype, chunks, codecs, bytes) or group")
    info.add_argument("path", help="a Zarr array or group (a directory, a .zip, or a URL)")
    tree = commands.add_parser("tree", help="draw the hierarchy below a group")
    tree.add_argument("path", help="a Zarr group")
    tree.add_argument("--level", type=int, default=None, help="show at most this many levels")
    migrate = commands.add_parser("migrate", help="rewrite Zarr V2 metadata as V3 in place (chunks untouched)")
    migrate.add_argument("path", help="a Zarr V2 array or group (a directory or URL)")
    migrate.add_argument("--to", type=int, choices=(3,), default=3, help="the target format (only 3)")
    migrate.add_argument("--dry-run", action="store_true", help="print what would change and write nothing")
    _add_progress_flags(migrate)
    copy = commands.add_parser("copy", help="copy an array or group, optionally to another format or compressor")
    copy.add_argument("src", help="the Zarr array or group to copy")
    copy.add_argument("dst", help="where to write it (must not exist)")
    copy.add_argument(
        "--zarr-format", type=int, choices=(2, 3), default=None, help="the format to write (default: keep)"
    )
    copy.add_argument(
        "--compressor", default=None, metavar="NAME[:LEVEL]",
        help=f"re-compress with one of {', '.join(_COMPRESSORS)} (default: keep the source's)",
    )
    _add_progress_flags(copy)
    demo = commands.add_parser("demo", help="write a small hierarchy to ./demo.zarr and print its tree")
    demo.add_argument("path", nargs="?", default="demo.zarr", help="where to write (default: demo.zarr)")
    return parser


def _add_progress_flags(command: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``; neither: a bar when standard error is a terminal."""
    bar = command.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")


# ------------------------------------------------------------------------------------------ helpers
def _is_url(path: str) -> bool:
    return "://" in path or "::" in path


def _open(path: str, mode: str = "r") -> Any:
    """Open the node at ``path``, with a one-line error for a missing path or something that is not Zarr."""
    import zarrlayered

    if not _is_url(path) and not os.path.exists(path):
        raise CLIError(f"no such file or directory: {path}")
    try:
        return zarrlayered.open(path, mode=mode)
    except (KeyError, FileNotFoundError) as exc:
        raise CLIError(f"{path} is not a Zarr array or group ({_message(exc)})") from None


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def parse_compressor(spec: str, zarr_format: int) -> Any:
    """``"zstd:5"`` -> the compressor for ``create_array(compressors=...)`` in ``zarr_format``; ``"none"`` -> None.

    Raises
    ------
    ValueError
        For an unknown name or a level that is not an integer.
    """
    import numcodecs

    name, _, level_text = spec.partition(":")
    name = name.strip().lower()
    if name not in _COMPRESSORS:
        raise ValueError(f"unknown compressor {spec!r}; choose one of {', '.join(_COMPRESSORS)} (NAME[:LEVEL])")
    if name == "none":
        return None
    try:
        level = int(level_text) if level_text else None
    except ValueError:
        raise ValueError(f"compressor level must be an integer, got {level_text!r} in {spec!r}") from None
    if zarr_format == 3 and name in ("zstd", "gzip", "blosc"):
        key = "clevel" if name == "blosc" else "level"
        config = {} if level is None else {key: level}
        return {"name": name, "configuration": config}
    if name == "zstd":
        return numcodecs.Zstd(level=0 if level is None else level)
    if name == "gzip":
        return numcodecs.GZip(level=1 if level is None else level)
    if name == "zlib":
        return numcodecs.Zlib(level=1 if level is None else level)
    if name == "blosc":
        return numcodecs.Blosc(clevel=5 if level is None else level)
    return numcodecs.LZ4(acceleration=1 if level is None else level)


# ------------------------------------------------------------------------------------------ commands
def _codecs(array: Any) -> str:
    parts = [repr(c) for c in (*array.filters, *((array.serializer,) if array.serializer is not None else ()))]
    parts += [repr(c) for c in array.compressors]
    return ", ".join(parts) or "none"


def cmd_info(path: str) -> str:
    """The text of ``zarrlayered info PATH``."""
    import zarrlayered

    node = _open(path)
    if isinstance(node, zarrlayered.Array):
        text = str(node.info_complete())
        return f"{text}\n{'Codecs':<19}: {_codecs(node)}"
    info = node.info_complete()
    return f"{info}\n{node.tree(plain=True)}"


def cmd_tree(path: str, level: int | None) -> str:
    """The text of ``zarrlayered tree PATH``."""
    import zarrlayered

    node = _open(path)
    if isinstance(node, zarrlayered.Array):
        return f"{path} {node.shape} {node.dtype} (an array, not a group)"
    return str(node.tree(level=level, plain=True))


def cmd_migrate(path: str, dry_run: bool, progress: bool | None = None) -> tuple[str, bool]:
    """Migrate ``path`` to V3; returns the report and whether every node could be migrated.

    ``progress``: True/False for a bar over the nodes or none, None for one when stderr is a terminal.
    """
    from zarrlayered.core.migrate import migrate_to_v3
    from zarrlayered.stores.make import make_store

    if not _is_url(path) and not os.path.exists(path):
        raise CLIError(f"no such file or directory: {path}")
    store = make_store(path, mode="r" if dry_run else "r+")
    plan = migrate_to_v3(store, dry_run=dry_run, progress=progress)
    lines = plan.describe()
    done = len(plan.migratable)
    if dry_run:
        lines.append(f"dry run: {done} node(s) would be migrated, {len(plan.refused)} left as V2; nothing written")
    else:
        lines.append(f"migrated {done} node(s) to Zarr V3; {len(plan.refused)} left as V2")
    return "\n".join(lines), not plan.refused


def _copy_data(src: Any, dst: Any, bar: ProgressBar) -> None:
    """Copy ``src`` into ``dst`` in slabs of whole destination chunks along the first axis."""
    if src.ndim == 0 or src.size == 0:
        dst[...] = src[...]
        return
    step = int((dst.shards or dst.chunks)[0])
    row_bytes = max(1, src.nbytes // src.shape[0])
    step *= max(1, _SLAB_BYTES // max(1, row_bytes * step))
    for start in range(0, src.shape[0], step):
        stop = min(start + step, src.shape[0])
        dst[start:stop] = src[start:stop]
        bar.update((stop - start) * row_bytes)


def _create_like(store: Any, name: str, src: Any, zarr_format: int, compressors: Any) -> Any:
    """An empty array at ``name`` in ``store`` shaped like ``src``, in ``zarr_format`` with ``compressors``."""
    import zarrlayered

    common: dict[str, Any] = {"attributes": dict(src.attrs), "zarr_format": zarr_format}
    if zarr_format == src.zarr_format:
        return zarrlayered.from_array(store, data=src, name=name or None, write_data=False, compressors=compressors,
                                      **common)
    # Across formats the codecs, chunk key encoding and shards are the target format's defaults; the data type
    # is passed as a DataType, so V2 object arrays of strings stay strings.
    return zarrlayered.create_array(
        store, name=name or None, shape=src.shape, dtype=src.metadata.data_type, chunks=src.chunks,
        fill_value=src.fill_value, compressors="auto" if compressors == "keep" else compressors, **common,
    )


def cmd_copy(
    src_path: str, dst_path: str, zarr_format: int | None, compressor: str | None, progress: bool | None
) -> str:
    """Copy ``src_path`` to ``dst_path``; returns a one-line summary.

    ``progress``: True/False for a bar or none; None for a bar when stderr is a terminal and the copy
    moves at least 64 MiB.
    """
    import zarrlayered
    from zarrlayered.core.progress import progress_bar

    src = _open(src_path)
    fmt: Literal[2, 3] = 3 if (zarr_format or src.zarr_format) == 3 else 2
    if not _is_url(dst_path) and os.path.exists(dst_path):
        raise CLIError(f"destination already exists: {dst_path}")
    compressors = "keep" if compressor is None else parse_compressor(compressor, fmt)
    arrays: list[tuple[str, Any]]
    if isinstance(src, zarrlayered.Array):
        arrays = [("", src)]
        root = None
    else:
        root = zarrlayered.open_group(dst_path, mode="w-", zarr_format=fmt, attributes=dict(src.attrs))
        members = sorted(src.members(max_depth=None), key=lambda m: m[0])
        for name, node in members:
            if isinstance(node, zarrlayered.Group):
                root.create_group(name, attributes=dict(node.attrs))
        arrays = [(name, node) for name, node in members if isinstance(node, zarrlayered.Array)]
    total = sum(int(a.nbytes) for _, a in arrays)
    show = progress if progress is not None or total >= _PROGRESS_BYTES else False
    with progress_bar(total, "copy", show) as bar:
        for name, array in arrays:
            target = dst_path if root is None else root.store
            dst = _create_like(target, name, array, fmt, compressors)
            _copy_data(array, dst, bar)
    return f"copied {len(arrays)} array(s), {total} bytes, from {src_path} to {dst_path} (Zarr V{fmt})"


# ------------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "info":
            print(cmd_info(args.path))
        elif args.command == "tree":
            print(cmd_tree(args.path, args.level))
        elif args.command == "migrate":
            report, complete = cmd_migrate(args.path, args.dry_run, args.progress)
            print(report)
            if not complete:
                print(f"zarrlayered migrate: error: some nodes of {args.path} cannot be expressed in Zarr V3 "
                      "and were left untouched (see 'skip' lines above)", file=sys.stderr)
                return 1
        elif args.command == "copy":
            print(cmd_copy(args.src, args.dst, args.zarr_format, args.compressor, args.progress))
        elif args.command == "demo":
            from zarrlayered.demo import run_demo

            print(run_demo(args.path))
        return 0
    except KeyboardInterrupt:
        print(f"zarrlayered {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the command line prints one line, never a traceback
        print(f"zarrlayered {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1

"""Whole-hierarchy operations as coroutines: consolidating metadata, writing many nodes at once, copying.

``copy``, ``copy_all`` and ``copy_store`` are zarr-python 2's functions (zarr-python 3 declares them and
raises NotImplementedError): same arguments, same ``(n_copied, n_skipped, n_bytes_copied)`` results, same
log lines. They work between any two stores, e.g. memory -> local directory -> zip archive.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import contextmanager
from typing import IO, Any, Literal

import numpy as np

from zarrlayered.api.asynchronous import open_group, resolve_store
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup, create_nodes
from zarrlayered.core.hierarchy import ensure_parents
from zarrlayered.core.metadata import ConsolidatedMetadata, GroupMetadata, NodeMetadata
from zarrlayered.core.nodes import join_path, normalize_path, write_documents
from zarrlayered.core.progress import ProgressBar, progress_bar, progress_enabled
from zarrlayered.errors import ZarrlayeredError

__all__ = [
    "CopyError",
    "consolidate_metadata",
    "copy",
    "copy_all",
    "copy_store",
    "create_hierarchy",
    "save_many",
]

_METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})
_IF_EXISTS = ("raise", "replace", "skip", "skip_initialized")

LogLike = Callable[..., Any] | str | IO[str] | None


class CopyError(ZarrlayeredError, RuntimeError):
    """A copy found something already in its way (``if_exists="raise"``); zarr-python 2's ``CopyError``."""


async def consolidate_metadata(
    store: Any, path: str | None = None, zarr_format: Literal[2, 3] | None = None
) -> AsyncGroup:
    """Gather the metadata of every node below the group at ``path`` into one document.

    V3 groups get it inline in their ``zarr.json`` (``consolidated_metadata``); V2 groups get a
    ``.zmetadata`` document; both byte for byte as zarr-python 3 writes them. Returns the group, opened
    with it.
    """
    resolved = resolve_store(store, "r+")
    root = await AsyncGroup.open(resolved, normalize_path(path), zarr_format=zarr_format, use_consolidated=False)
    root._check_writable()
    entries: dict[str, Any] = {}
    async for name, node in root.members(max_depth=None, use_consolidated_for_children=False):
        meta = node.metadata
        # zarr-python marks every subgroup as consolidated (with no members of its own)
        entries[name] = meta if not isinstance(meta, GroupMetadata) else GroupMetadata(
            meta.attributes, meta.zarr_format, ConsolidatedMetadata(), meta.extra_fields
        )
    metadata = GroupMetadata(
        root.metadata.attributes, root.zarr_format, ConsolidatedMetadata(metadata=entries), root.metadata.extra_fields
    )
    await write_documents(resolved, root.path, metadata.to_json_bytes())
    return AsyncGroup(metadata, resolved, root.path)


async def create_hierarchy(
    *, store: Any, nodes: Mapping[str, NodeMetadata], overwrite: bool = False
) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
    """Write many nodes described in memory (path -> metadata, from the store's root) in one concurrent batch.

    Missing parent groups (the root included) are added and existing ones kept; an existing node at a
    given path is an error unless ``overwrite=True``. Yields ``(path, node)`` for each node written, parents
    before children (zarr-python 3 yields them in completion order).
    """
    resolved = resolve_store(store, "w" if overwrite else "a")
    for path, node in await create_nodes(resolved, nodes, overwrite=overwrite):
        yield path, node


async def save_many(
    store: Any, arrays: Mapping[str, Any], *, zarr_format: Literal[2, 3] | None = None, overwrite: bool = True,
    **kwargs: Any,
) -> AsyncGroup:
    """Write several numpy arrays (path -> data) into the group at the store's root, concurrently."""
    root = await open_group(store, mode="a", zarr_format=zarr_format)
    await asyncio.gather(
        *(root.create_array(name, data=np.asarray(value), overwrite=overwrite, **kwargs)
          for name, value in arrays.items())
    )
    return root


# -- copying ------------------------------------------------------------------------------------------


@contextmanager
def _log_writer(log: LogLike) -> Any:
    """zarr-python 2's logging for copies: a callable, a file path (written) or a file-like object."""
    if log is None:
        yield lambda *args: None
    elif callable(log):
        yield log
    elif isinstance(log, str):
        with builtins.open(log, "w") as handle:
            yield lambda *args: print(*args, file=handle, flush=True)
    elif hasattr(log, "write"):
        yield lambda *args: print(*args, file=log, flush=hasattr(log, "flush"))
    else:
        raise TypeError(f"log must be a callable function, file path or file-like object, found {log!r}")


def _summary(log: Callable[..., Any], dry_run: bool, counts: tuple[int, int, int]) -> None:
    copied, skipped, nbytes = counts
    message = ("dry run: " if dry_run else "all done: ") + f"{copied:,} copied, {skipped:,} skipped"
    if not dry_run:
        message += f", {nbytes:,} bytes copied"
    log(message)


def _check_if_exists(if_exists: str, allowed: tuple[str, ...] = _IF_EXISTS) -> None:
    if if_exists not in allowed:
        raise ValueError(f"if_exists must be one of {list(allowed)!r}; found {if_exists!r}")


def _patterns(values: str | Iterable[str] | None, flags: int) -> list[re.Pattern[str]]:
    if values is None:
        return []
    return [re.compile(v, flags) for v in ([values] if isinstance(values, str) else values)]


async def copy_store(
    source: Any,
    dest: Any,
    *,
    source_path: str = "",
    dest_path: str = "",
    excludes: str | Iterable[str] | None = None,
    includes: str | Iterable[str] | None = None,
    flags: int = 0,
    if_exists: Literal["raise", "replace", "skip"] = "raise",
    dry_run: bool = False,
    log: LogLike = None,
    progress: bool | None = None,
) -> tuple[int, int, int]:
    """Copy every key below ``source_path`` to ``dest_path``, bytes unchanged (any store to any store).

    ``excludes`` are regular expressions searched in each key (``re.search``, with ``flags``); a key they
    match is left out unless one of ``includes`` matches it too. Returns ``(copied, skipped, bytes_copied)``
    and logs ``copy <key>`` lines like zarr-python 2. ``progress``: a bar over the keys (True), none
    (False), or one when the session is interactive (None: stderr is a terminal or a Jupyter kernel).
    """
    _check_if_exists(if_exists, ("raise", "replace", "skip"))
    src = resolve_store(source, "r")
    dst = resolve_store(dest, "r" if dry_run else "a")
    src_root, dst_root = normalize_path(source_path), normalize_path(dest_path)
    prefix = f"{src_root}/" if src_root else ""
    exclude, include = _patterns(excludes, flags), _patterns(includes, flags)
    keys = [
        key for key in sorted([key async for key in src.list_prefix(prefix)])
        if not (any(p.search(key) for p in exclude) and not any(p.search(key) for p in include))
    ]
    copied = skipped = nbytes = 0
    with _log_writer(log) as write_log, progress_bar(len(keys), "copy", progress and not dry_run, unit="key") as bar:
        for key in keys:
            bar.update(1)
            target = join_path(dst_root, key[len(prefix):]) if dst_root else key[len(prefix):]
            label = key if target == key else f"{key} -> {target}"
            if if_exists != "replace" and await dst.exists(target):
                if if_exists == "raise":
                    raise CopyError(f"key {target!r} exists in destination")
                write_log(f"skip {label}")
                skipped += 1
                continue
            write_log(f"copy {label}")
            if not dry_run:
                value = await src.get(key)
                if value is None:  # deleted meanwhile
                    continue
                await dst.set(target, value)
                nbytes += len(value)
            copied += 1
        _summary(write_log, dry_run, (copied, skipped, nbytes))
    return copied, skipped, nbytes


def _array_kwargs(source: AsyncArray, create_kws: Mapping[str, Any]) -> dict[str, Any]:
    """create_array arguments that rebuild ``source`` (its chunks, codecs, fill value), with overrides."""
    kwargs: dict[str, Any] = {
        "shape": source.shape, "dtype": source.dtype, "chunks": source.chunks, "fill_value": source.fill_value,
        "zarr_format": source.zarr_format, "filters": list(source.filters), "compressors": list(source.compressors),
    }
    if source.zarr_format == 3:
        kwargs["serializer"] = source.serializer
        kwargs["shards"] = source.shards  # filters/serializer/compressors are a sharded array's inner codecs
        kwargs["dimension_names"] = getattr(source.metadata, "dimension_names", None)
    else:
        kwargs["order"] = source.order
    overrides = dict(create_kws)
    if "compressor" in overrides:
        compressor = overrides.pop("compressor")
        overrides["compressors"] = [] if compressor is None else [compressor]
    if overrides.get("zarr_format", source.zarr_format) != source.zarr_format:
        for key in ("filters", "compressors", "serializer", "shards", "order", "dimension_names"):
            kwargs.pop(key, None)
    kwargs.update(overrides)
    return kwargs


async def _copy_array(
    source: AsyncArray, dest: AsyncGroup, name: str, without_attrs: bool, create_kws: Mapping[str, Any],
    bar: ProgressBar | None = None,
) -> tuple[AsyncArray, int]:
    """Write ``source`` into ``dest`` as ``name``; returns the copy and the bytes of data copied.

    ``bar`` is advanced by the array's bytes (``nbytes``) as its chunks are written.
    """
    bar = bar if bar is not None else progress_bar(None, "copy", False)
    target = join_path(dest.path, name)
    if not create_kws and source.zarr_format == dest.zarr_format:
        # Same metadata: the stored chunks are copied as they are (unwritten chunks stay unwritten).
        metadata = source.metadata.update_attributes({}) if without_attrs else source.metadata
        await ensure_parents(dest.store, target, metadata.zarr_format)
        prefix = f"{source.path}/" if source.path else ""
        keys = [k async for k in source.store.list_prefix(prefix) if k.rsplit("/", 1)[-1] not in _METADATA_NAMES]
        for start in range(0, len(keys), 256):  # bounded memory: 256 chunks at a time
            batch = keys[start : start + 256]
            values = await source.store.get_partial_values([(k, None) for k in batch])
            await asyncio.gather(*(
                dest.store.set(join_path(target, k[len(prefix):]), v)
                for k, v in zip(batch, values, strict=True) if v is not None
            ))
            # the share of the array's bytes these chunks hold (exact in total)
            bar.update(source.nbytes * (start + len(batch)) // len(keys) - source.nbytes * start // len(keys))
        if not keys:
            bar.update(source.nbytes)
        await write_documents(dest.store, target, metadata.to_json_bytes())
        return AsyncArray(metadata, dest.store, target, write_empty_chunks=source.write_empty_chunks), source.nbytes
    kwargs = _array_kwargs(source, {"zarr_format": dest.zarr_format, **create_kws})
    if not without_attrs:
        kwargs["attributes"] = {**source.metadata.attributes, **dict(kwargs.get("attributes") or {})}
    copy = await dest.create_array(name, **kwargs)
    step = copy.chunks[0] if copy.ndim and isinstance(copy.chunks[0], int) else max(copy.shape[:1] or [1])
    for start in range(0, copy.shape[0] if copy.ndim else 1, max(step, 1)):  # one slab of chunk rows at a time
        region: Any = (slice(start, start + step),) if copy.ndim else ()
        slab = await source.get_selection(region, "basic")
        await copy.set_selection(region, slab, "basic")
        bar.update(np.asarray(slab).size * source.dtype.itemsize)
    return copy, copy.nbytes


async def _copy(
    log: Callable[..., Any], source: AsyncArray | AsyncGroup, dest: AsyncGroup | None, name: str, root: bool,
    options: dict[str, Any], create_kws: Mapping[str, Any],
) -> tuple[int, int, int]:
    """One step of zarr-python 2's recursive copy; ``dest`` is None only in a dry run below a missing group."""
    shallow, without_attrs, if_exists, dry_run = (
        options["shallow"], options["without_attrs"], options["if_exists"], options["dry_run"]
    )
    existing = await dest.get(name) if dest is not None else None
    if isinstance(source, AsyncArray):
        do_copy = True
        if existing is not None:
            if if_exists == "raise":
                raise CopyError(f"an object {name!r} already exists in destination {dest.name!r}")  # type: ignore[union-attr]
            if if_exists == "skip":
                do_copy = False
            elif if_exists == "skip_initialized" and isinstance(existing, AsyncArray):
                do_copy = await existing.nchunks_initialized() != existing.nchunks
        if not do_copy:
            log(f"skip {source.name} {source.shape} {source.dtype}")
            return 0, 1, 0
        log(f"copy {source.name} {source.shape} {source.dtype}")
        if dry_run:
            return 1, 0, 0
        assert dest is not None
        if existing is not None:
            await dest.delitem(name)
        _, nbytes = await _copy_array(source, dest, name, without_attrs, create_kws, options.get("bar"))
        return 1, 0, nbytes
    if not (root or not shallow):
        return 0, 0, 0
    if isinstance(existing, AsyncArray):
        if if_exists == "raise":
            raise CopyError(f"an array {name!r} already exists in destination {dest.name!r}")  # type: ignore[union-attr]
        if if_exists == "skip":
            log(f"skip {source.name}")
            return 0, 1, 0
    log(f"copy {source.name}")
    group: AsyncGroup | None
    if dry_run:
        group = existing if isinstance(existing, AsyncGroup) else None
    else:
        assert dest is not None
        if isinstance(existing, AsyncArray):
            await dest.delitem(name)
        group = await dest.require_group(name)
        if not without_attrs:
            await group.update_attributes(source.metadata.attributes)
    counts = [1, 0, 0]
    async for child_name, child in source.members():
        result = await _copy(log, child, group, child_name, False, options, create_kws)
        counts = [a + b for a, b in zip(counts, result, strict=True)]
    return counts[0], counts[1], counts[2]


async def _bytes_to_copy(source: AsyncArray | AsyncGroup, shallow: bool) -> int:
    """The bytes of the arrays a copy of ``source`` writes (the total of its progress bar)."""
    if isinstance(source, AsyncArray):
        return source.nbytes
    return sum([node.nbytes async for _, node in source.members(max_depth=0 if shallow else None)
                if isinstance(node, AsyncArray)])


def _check_dest(dest: Any) -> AsyncGroup:
    if not isinstance(dest, AsyncGroup):
        raise ValueError(f"dest must be a group, got {type(dest).__name__}")
    return dest


async def copy(
    source: AsyncArray | AsyncGroup,
    dest: AsyncGroup,
    name: str | None = None,
    shallow: bool = False,
    without_attrs: bool = False,
    log: LogLike = None,
    if_exists: Literal["raise", "replace", "skip", "skip_initialized"] = "raise",
    dry_run: bool = False,
    progress: bool | None = None,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy an array or group (with everything below it) into the group ``dest`` as ``name``.

    Works between any two stores. Without ``create_kws`` arrays keep their metadata and their stored
    chunks are copied as bytes; with them (``chunks=``, ``compressors=``, ``zarr_format=`` ...), or into a
    group of the other Zarr format, arrays are re-encoded (in the format of ``dest`` unless ``zarr_format=``).
    Returns ``(n_copied, n_skipped, n_bytes_copied)`` like zarr-python 2. ``progress``: a bar over the
    bytes of the arrays (True), none (False), or one when the session is interactive (None: stderr is a
    terminal or a Jupyter kernel); never in a dry run.
    """
    target = _check_dest(dest)
    _check_if_exists(if_exists)
    if name is None:
        name = source.basename
        if not name:
            raise TypeError("source has no name, please provide the `name` parameter to indicate a name to copy to")
    show = progress_enabled(progress) and not dry_run
    total = await _bytes_to_copy(source, shallow) if show else None
    with _log_writer(log) as write_log, progress_bar(total, "copy", show) as bar:
        options = {"shallow": shallow, "without_attrs": without_attrs, "if_exists": if_exists, "dry_run": dry_run,
                   "bar": bar}
        counts = await _copy(write_log, source, target, name, True, options, create_kws)
        _summary(write_log, dry_run, counts)
    return counts


async def copy_all(
    source: AsyncGroup,
    dest: AsyncGroup,
    shallow: bool = False,
    without_attrs: bool = False,
    log: LogLike = None,
    if_exists: Literal["raise", "replace", "skip", "skip_initialized"] = "raise",
    dry_run: bool = False,
    progress: bool | None = None,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy every member of ``source`` into ``dest`` (and, unless ``without_attrs``, its attributes).

    Returns ``(n_copied, n_skipped, n_bytes_copied)`` like zarr-python 2. ``progress`` as for :func:`copy`.
    """
    target = _check_dest(dest)
    if not isinstance(source, AsyncGroup):
        raise ValueError(f"copy_all copies the members of a group, got {type(source).__name__}")
    _check_if_exists(if_exists)
    show = progress_enabled(progress) and not dry_run
    total = await _bytes_to_copy(source, shallow) if show else None
    totals = [0, 0, 0]
    with _log_writer(log) as write_log, progress_bar(total, "copy", show) as bar:
        options = {"shallow": shallow, "without_attrs": without_attrs, "if_exists": if_exists, "dry_run": dry_run,
                   "bar": bar}
        async for name, node in source.members():
            result = await _copy(write_log, node, target, name, False, options, create_kws)
            totals = [a + b for a, b in zip(totals, result, strict=True)]
        if not dry_run and not without_attrs:
            await target.update_attributes(source.metadata.attributes)
        counts = (totals[0], totals[1], totals[2])
        _summary(write_log, dry_run, counts)
    return counts


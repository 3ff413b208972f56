"""Writers killed by the crash-safety tests, and the checks run on what they leave behind.

The functions run in child processes started through multiprocessing's forkserver, so they must be
importable (this module is preloaded into the fork server). A writer writes numbered *versions* of a small
hierarchy forever; every value it writes names its version, so a reader can tell a complete old value, a
complete new value, and anything else (a torn or mixed write) apart:

- ``chunked`` (and, in Zarr V3, ``sharded``): chunk ``i`` of version ``v`` holds ``v * 1000 + i`` everywhere;
- the array's attributes hold ``version: v`` and a list of 300 copies of ``v`` (a metadata document of
  several kilobytes);
- ``grow`` is resized to :func:`grow_length` ``(v)`` elements (shrinking and growing in turn), then written
  like ``chunked``;
- the group ``groups/g<v>`` is created with attribute ``v``;
- the hierarchy's metadata is consolidated.

Progress is published in two shared integers that survive SIGKILL: ``started`` (the version being
written) and ``done`` (the last version written completely).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import zarrlayered
from zarrlayered.core.sync import sync_iter
from zarrlayered.stores import LocalStore, ZipStore
from zarrlayered.stores.local import TEMP_PREFIX

CHUNK = 16
NCHUNKS = 8
HISTORY = 300
GROW_CHUNK = 10
METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})


def grow_length(version: int) -> int:
    """The length of ``grow`` after version ``version`` (shrinks and grows in turn)."""
    return GROW_CHUNK * (version % 5 + 1)


def version_data(version: int, nchunks: int, chunk: int) -> np.ndarray[Any, Any]:
    """The contents of an array of ``nchunks`` chunks of ``chunk`` elements at ``version``."""
    return np.repeat(version * 1000 + np.arange(nchunks, dtype="<i4"), chunk)


def create(root: str, zarr_format: int) -> None:
    """Create the hierarchy at version 0."""
    group = zarrlayered.open_group(LocalStore(root), mode="w", zarr_format=zarr_format)
    n = CHUNK * NCHUNKS
    group.create_array("chunked", shape=(n,), chunks=(CHUNK,), dtype="<i4", fill_value=-1,
                       attributes={"version": 0, "history": [0] * HISTORY})
    if zarr_format == 3:
        group.create_array("sharded", shape=(n,), chunks=(CHUNK // 4,), shards=(CHUNK,), dtype="<i4",
                           fill_value=-1)
    group.create_array("grow", shape=(grow_length(0),), chunks=(GROW_CHUNK,), dtype="<i4", fill_value=-1)
    write_version(group, 0, zarr_format)


def write_version(group: zarrlayered.Group, version: int, zarr_format: int) -> None:
    """Write version ``version`` of every node (see the module documentation)."""
    data = version_data(version, NCHUNKS, CHUNK)
    chunked = group["chunked"]
    assert isinstance(chunked, zarrlayered.Array)
    chunked[:] = data
    chunked.attrs.update({"version": version, "history": [version] * HISTORY})
    if zarr_format == 3:
        sharded = group["sharded"]
        assert isinstance(sharded, zarrlayered.Array)
        sharded[:] = data
    grow = group["grow"]
    assert isinstance(grow, zarrlayered.Array)
    length = grow_length(version)
    grow.resize((length,))
    grow[:] = version_data(version, length // GROW_CHUNK, GROW_CHUNK)
    if version > 0:
        group.create_group(f"groups/g{version}", attributes={"v": version})
    zarrlayered.consolidate_metadata(group.store)


def write_forever(root: str, zarr_format: int, first: int, started: Any, done: Any) -> None:
    """Write versions ``first``, ``first + 1``, ... of the hierarchy at ``root`` until killed."""
    group = zarrlayered.open_group(LocalStore(root), mode="r+", use_consolidated=False)
    version = first
    while True:
        started.value = version
        write_version(group, version, zarr_format)
        done.value = version
        version += 1


# -- checks -------------------------------------------------------------------------------------------------
def metadata_documents(root: str) -> dict[str, Any]:
    """Parse every metadata document under ``root`` (raises on one that is not complete JSON)."""
    documents = {}
    for path in Path(root).rglob("*"):
        if path.name in METADATA_NAMES:
            documents[str(path.relative_to(root))] = json.loads(path.read_bytes())
    return documents


def chunk_versions(values: np.ndarray[Any, Any], chunk: int, fill: int = -1) -> list[int | None]:
    """The version each chunk of ``values`` holds (None: the fill value); raises on a mixed chunk."""
    versions: list[int | None] = []
    for i, block in enumerate(values.reshape(-1, chunk)):
        first = int(block[0])
        assert np.all(block == first), f"chunk {i} mixes versions: {np.unique(block)}"
        if first == fill:
            versions.append(None)
            continue
        version, position = divmod(first, 1000)
        assert position == i, f"chunk {i} holds the data of chunk {position}"
        versions.append(version)
    return versions


def check_local(root: str, zarr_format: int, done: int, started: int, completed: set[int]) -> dict[str, int]:
    """Check what a killed writer left: every metadata document parses, every chunk is one whole version.

    ``done`` is the last version known complete, ``started`` the last one begun: every chunk of
    ``chunked`` and ``sharded`` holds a version in ``done..started``. ``completed`` are all the versions
    written completely (their groups exist). Returns counts for the report.
    """
    allowed = set(range(done, started + 1))
    documents = metadata_documents(root)
    assert "zarr.json" in documents or ".zgroup" in documents
    group = zarrlayered.open_group(LocalStore(root, read_only=True), mode="r", use_consolidated=False)
    chunked = group["chunked"]
    assert isinstance(chunked, zarrlayered.Array)
    seen = set(chunk_versions(chunked[:], CHUNK))
    assert seen <= allowed, f"chunked holds versions {seen}, expected some of {allowed}"
    attrs = chunked.attrs.asdict()
    assert attrs["version"] in allowed and attrs["history"] == [attrs["version"]] * HISTORY
    if zarr_format == 3:
        sharded = group["sharded"]
        assert isinstance(sharded, zarrlayered.Array)
        shard_seen = set(chunk_versions(sharded[:], CHUNK))
        assert shard_seen <= allowed, f"sharded holds versions {shard_seen}, expected some of {allowed}"
    grow = group["grow"]
    assert isinstance(grow, zarrlayered.Array)
    assert grow.shape[0] in {grow_length(v) for v in range(done, started + 1)}
    # A chunk of grow is one whole version; past the last completed length it may be older (a resize
    # deletes the chunks it cuts off after writing the new shape) or missing (the fill value).
    for version in chunk_versions(grow[:], GROW_CHUNK):
        assert version is None or version <= started
    groups = {int(name[1:]) for name in group["groups"].group_keys()} if "groups" in group else set()  # type: ignore[union-attr]
    assert completed - {0} <= groups <= set(range(1, started + 1)), (sorted(completed), started, sorted(groups))
    for v in groups:
        assert group[f"groups/g{v}"].attrs["v"] == v
    # a reader that trusts the consolidated metadata (which may lag one version behind) reads whole versions
    consolidated = zarrlayered.open_group(LocalStore(root, read_only=True), mode="r")["chunked"]
    assert isinstance(consolidated, zarrlayered.Array)
    assert set(chunk_versions(consolidated[:], CHUNK)) <= allowed
    listed = sync_iter(LocalStore(root, read_only=True).list())
    assert not any(TEMP_PREFIX in key for key in listed)
    leftovers = sum(1 for path in Path(root).rglob(f"{TEMP_PREFIX}*"))
    return {"documents": len(documents), "temp_files": leftovers}


# -- zip -------------------------------------------------------------------------------------------------
def zip_commit_forever(path: str, first: int, started: Any, done: Any) -> None:
    """Append version after version to the archive, closing (committing) after each, until killed."""
    version = first
    while True:
        started.value = version
        with ZipStore(path, mode="a") as store:
            group = zarrlayered.open_group(store, mode="r+")
            arr = group["chunked"]
            assert isinstance(arr, zarrlayered.Array)
            arr[:] = version_data(version, NCHUNKS, CHUNK)
            arr.attrs["version"] = version
        done.value = version
        version += 1


def zip_write_then_wait(path: str, version: int, written: Any) -> None:
    """Write ``version`` into the archive without closing it, say so, then wait to be killed."""
    store = ZipStore(path, mode="a")
    group = zarrlayered.open_group(store, mode="r+")
    arr = group["chunked"]
    assert isinstance(arr, zarrlayered.Array)
    arr[:] = version_data(version, NCHUNKS, CHUNK)
    arr.attrs["version"] = version
    group.create_group("uncommitted")
    written.value = version
    while True:  # wait to be killed, the store still open
        time.sleep(60)

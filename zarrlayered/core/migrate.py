"""Rewrite Zarr V2 metadata as V3 in place, leaving every chunk untouched (as ``zarr migrate v3`` does).

Each V2 array (``.zarray`` + ``.zattrs``) becomes a ``zarr.json`` with the ``v2`` chunk key encoding and
the V2 ``dimension_separator``, so every chunk key stays valid; ``order="F"`` becomes a ``transpose``
codec; the compressor becomes the native V3 codec where one is byte-equivalent (``blosc``, ``zstd``,
``gzip``) and the ``numcodecs.*`` codec otherwise; filters become ``numcodecs.*`` codecs. Beyond
zarr-python 3.1, a ``vlen-utf8``/``vlen-bytes`` object codec becomes the V3 ``vlen-utf8``/``vlen-bytes``
serializer (the bytes are the same). An array whose codecs cannot be expressed in V3 is reported and left
untouched. Each new ``zarr.json`` is written before the node's V2 documents are removed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from zarrlayered.codecs.registry import parse_codecs_v3
from zarrlayered.core.metadata.common import dumps_json, loads_json
from zarrlayered.core.metadata.v2 import ArrayV2Metadata
from zarrlayered.core.metadata.v3 import ArrayV3Metadata
from zarrlayered.core.progress import progress_bar
from zarrlayered.errors import MetadataValidationError
from zarrlayered.stores.abc import Store

__all__ = ["MigrationPlan", "NodeMigration", "apply_migration", "migrate_to_v3", "plan_migration"]

logger = logging.getLogger("zarrlayered.array")

ZARRAY, ZGROUP, ZATTRS, ZMETADATA, ZARR_JSON = ".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json"
_V2_DOCS = (ZARRAY, ZGROUP, ZATTRS, ZMETADATA)
_BLOSC_SHUFFLE = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}
_OBJECT_SERIALIZERS = {"vlen-utf8": "vlen-utf8", "vlen-bytes": "vlen-bytes"}


@dataclass(frozen=True)
class NodeMigration:
    """What migration does to one node.

    Attributes
    ----------
    path
        The node's path in the store (``""`` for the root).
    node_type
        ``"array"`` or ``"group"``.
    zarr_json
        The new ``zarr.json`` bytes, or None when the node cannot be migrated.
    remove
        The V2 documents removed once ``zarr.json`` is written (keys in the store).
    problem
        Why the node is left untouched, or None.
    """

    path: str
    node_type: Literal["array", "group"]
    zarr_json: bytes | None
    remove: tuple[str, ...]
    problem: str | None = None

    @property
    def key(self) -> str:
        """The key of the new ``zarr.json``."""
        return _join(self.path, ZARR_JSON)


@dataclass(frozen=True)
class MigrationPlan:
    """Every node's migration, and the V2 consolidated metadata to drop (it would describe removed documents)."""

    nodes: tuple[NodeMigration, ...]
    drop: tuple[str, ...] = ()

    @property
    def migratable(self) -> tuple[NodeMigration, ...]:
        """The nodes that will be rewritten."""
        return tuple(node for node in self.nodes if node.problem is None)

    @property
    def refused(self) -> tuple[NodeMigration, ...]:
        """The nodes left untouched, each with its ``problem``."""
        return tuple(node for node in self.nodes if node.problem is not None)

    def describe(self) -> list[str]:
        """One line per change (and per refused node), for ``zarrlayered migrate --dry-run``."""
        lines: list[str] = []
        for node in self.nodes:
            name = node.path or "/"
            if node.problem is not None:
                lines.append(f"skip {node.node_type} {name}: {node.problem}")
                continue
            lines.append(f"write {node.key} ({node.node_type} {name})")
            lines += [f"remove {key}" for key in node.remove]
        lines += [f"remove {key} (stale consolidated V2 metadata)" for key in self.drop]
        return lines


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _parent(key: str) -> str:
    return key.rsplit("/", 1)[0] if "/" in key else ""


def _endian(dtype: np.dtype[Any]) -> str | None:
    """The ``bytes`` codec's endian for ``dtype``; raises ValueError when the fields disagree."""
    if dtype.fields:
        orders = {_endian(field[0]) for field in dtype.fields.values()} - {None}
        if len(orders) > 1:
            raise ValueError(f"structured dtype {dtype} mixes byte orders")
        return orders.pop() if orders else None
    if dtype.itemsize <= 1 or dtype.byteorder == "|" or dtype.kind in "OSUV":
        return None
    order = dtype.byteorder
    if order == "=":
        order = "<" if sys.byteorder == "little" else ">"
    return "big" if order == ">" else "little"


def _numcodecs_json(config: Mapping[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in config.items() if k != "id"}
    return {"name": f"numcodecs.{config['id']}", "configuration": rest}


def compressor_v3_json(config: Mapping[str, Any], itemsize: int) -> dict[str, Any]:
    """The V3 codec JSON equivalent to a V2 compressor config (native codec where byte-equivalent)."""
    codec_id = config["id"]
    if codec_id == "blosc":
        shuffle = int(config.get("shuffle", 1))
        if shuffle == -1:  # numcodecs AUTOSHUFFLE: bit shuffle for 1-byte items, byte shuffle otherwise
            shuffle = 2 if itemsize == 1 else 1
        if shuffle not in _BLOSC_SHUFFLE:
            raise ValueError(f"blosc shuffle {shuffle!r} has no V3 equivalent")
        return {"name": "blosc", "configuration": {
            "typesize": itemsize, "cname": config.get("cname", "lz4"), "clevel": config.get("clevel", 5),
            "shuffle": _BLOSC_SHUFFLE[shuffle], "blocksize": config.get("blocksize", 0),
        }}
    if codec_id == "zstd":
        return {"name": "zstd", "configuration": {"level": config.get("level", 0),
                                                  "checksum": bool(config.get("checksum", False))}}
    if codec_id == "gzip":
        return {"name": "gzip", "configuration": {"level": config.get("level", 1)}}
    return _numcodecs_json(config)


def array_v3_json(zarray: Mapping[str, Any], zattrs: Mapping[str, Any] | None = None) -> bytes:
    """The ``zarr.json`` bytes describing the V2 array ``zarray`` (+ ``zattrs``) over its unchanged chunks.

    Raises
    ------
    ValueError
        When the array's codecs (or dtype) cannot be expressed in V3; the message names the codec.
    """
    meta = ArrayV2Metadata.from_dict(zarray, zattrs or {})
    codecs: list[dict[str, Any]] = []
    if meta.order == "F" and len(meta.shape) > 1:
        codecs.append({"name": "transpose", "configuration": {"order": list(range(len(meta.shape) - 1, -1, -1))}})
    filters = [f.get_config() for f in meta.filters or ()]
    serializer: dict[str, Any]
    if meta.dtype.kind == "O":
        if not filters or filters[-1]["id"] not in _OBJECT_SERIALIZERS:
            found = [f["id"] for f in filters]
            raise ValueError(f"object array codecs {found} have no V3 serializer (need vlen-utf8 or vlen-bytes last)")
        serializer = {"name": _OBJECT_SERIALIZERS[filters.pop()["id"]]}
    else:
        endian = _endian(meta.dtype)
        serializer = {"name": "bytes"} if endian is None else {"name": "bytes", "configuration": {"endian": endian}}
    codecs += [_numcodecs_json(f) for f in filters]
    codecs.append(serializer)
    if meta.compressor is not None:
        codecs.append(compressor_v3_json(meta.compressor.get_config(), meta.dtype.itemsize))
    try:
        v3 = ArrayV3Metadata(
            shape=meta.shape, data_type=meta.data_type, chunk_grid=meta.chunk_grid,
            chunk_key_encoding=meta.chunk_key_encoding,  # "v2" with the V2 dimension_separator
            fill_value=meta.fill_value, codecs=parse_codecs_v3(codecs), attributes=dict(meta.attributes),
        )
    except MetadataValidationError as exc:
        raise ValueError(str(exc)) from None
    return v3.to_json_bytes()[ZARR_JSON]


def group_v3_json(zattrs: Mapping[str, Any] | None = None) -> bytes:
    """The ``zarr.json`` bytes of a V3 group with the attributes ``zattrs``."""
    return dumps_json({"attributes": dict(zattrs or {}), "zarr_format": 3, "node_type": "group"})


def _read_json(store: Store, key: str) -> dict[str, Any] | None:
    raw = store.get_sync(key)
    return None if raw is None else loads_json(raw, key)


def plan_migration(store: Store, path: str = "", *, progress: bool | None = False) -> MigrationPlan:
    """Plan the V2 -> V3 migration of every node at or below ``path``; reads only metadata documents.

    ``progress``: a bar over the nodes read (True), none (False, the default), or one when the session is
    interactive (None); see :func:`zarrlayered.core.progress.progress_enabled`.

    Raises
    ------
    ValueError
        When there is no V2 node there.
    """
    prefix = f"{path.strip('/')}/" if path.strip("/") else ""
    keys = set(store.list_prefix_sync(prefix))
    nodes: list[NodeMigration] = []
    found = sorted(key for key in keys if key.rsplit("/", 1)[-1] in (ZARRAY, ZGROUP))
    with progress_bar(len(found), "read V2 metadata", progress, unit="node") as bar:
        for key in found:
            nodes.append(_plan_node(store, keys, key))
            bar.update(1)
    if not nodes:
        raise ValueError(f"no Zarr V2 array or group at {path or '/'!r} (nothing to migrate)")
    drop = tuple(sorted(k for k in keys if k.rsplit("/", 1)[-1] == ZMETADATA))
    return MigrationPlan(tuple(nodes), drop)


def _plan_node(store: Store, keys: set[str], key: str) -> NodeMigration:
    """The migration of the node whose ``.zarray``/``.zgroup`` is ``key`` (``keys``: every key listed)."""
    node_path = _parent(key)
    attrs_key = _join(node_path, ZATTRS)
    remove = (key, attrs_key) if attrs_key in keys else (key,)
    kind: Literal["array", "group"] = "array" if key.rsplit("/", 1)[-1] == ZARRAY else "group"
    if _join(node_path, ZARR_JSON) in keys:
        return NodeMigration(node_path, kind, None, remove, f"{_join(node_path, ZARR_JSON)} already exists")
    try:
        attrs = _read_json(store, attrs_key) if attrs_key in keys else None
        doc = _read_json(store, key) or {}
        new = array_v3_json(doc, attrs) if kind == "array" else group_v3_json(attrs)
    except (ValueError, TypeError, KeyError) as exc:
        return NodeMigration(node_path, kind, None, remove, str(exc))
    return NodeMigration(node_path, kind, new, remove)


def apply_migration(store: Store, plan: MigrationPlan, *, progress: bool | None = False) -> None:
    """Carry out ``plan``: write each new ``zarr.json``, then remove that node's V2 documents.

    ``progress``: a bar over the nodes migrated (True), none (False, the default), or one when the
    session is interactive (None).
    """
    with progress_bar(len(plan.migratable), "migrate", progress, unit="node") as bar:
        for node in plan.migratable:
            assert node.zarr_json is not None
            store.set_sync(node.key, node.zarr_json)
            logger.info("migrated %s %r to Zarr V3", node.node_type, node.path or "/")
            for key in node.remove:
                store.delete_sync(key)
            bar.update(1)
    if plan.migratable:
        for key in plan.drop:
            store.delete_sync(key)


def migrate_to_v3(
    store: Store, path: str = "", *, dry_run: bool = False, progress: bool | None = None
) -> MigrationPlan:
    """Migrate the V2 hierarchy at ``path`` in ``store`` to V3 in place (chunks untouched); returns the plan.

    With ``dry_run=True`` nothing is written. Nodes whose codecs cannot be expressed in V3 are left as they
    are; see :attr:`MigrationPlan.refused`. ``progress``: True shows a bar over the nodes (reading their
    V2 metadata, then rewriting it), False none, None one when the session is interactive (standard
    error is a terminal, or a Jupyter kernel).
    """
    plan = plan_migration(store, path, progress=progress)
    if not dry_run:
        apply_migration(store, plan, progress=progress)
    return plan

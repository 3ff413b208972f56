"""``Array.info`` and ``Group.info``: readable descriptions of nodes, laid out like zarr-python 3's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zarrlayered.core.array import AsyncArray

__all__ = ["ArrayInfo", "GroupInfo", "byte_info", "human_bytes"]


def human_bytes(size: int) -> str:
    """``1234567`` -> ``"1.2M"`` (binary prefixes), as zarr-python prints sizes."""
    value = float(size)
    for unit in ("", "K", "M", "G", "T", "P"):
        if value < 1024 or unit == "P":
            return f"{int(value)}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{size}"  # pragma: no cover


def byte_info(size: int) -> str:
    """``760`` -> ``"760"``, ``20000`` -> ``"20000 (19.5K)"``, as zarr-python 3 shows byte counts."""
    return str(size) if size < 1024 else f"{size} ({human_bytes(size)})"


@dataclass(frozen=True)
class ArrayInfo:
    """What ``Array.info`` shows."""

    zarr_format: int
    data_type: str
    fill_value: Any
    shape: tuple[int, ...]
    chunk_shape: Any
    shard_shape: tuple[int, ...] | None
    order: str
    read_only: bool
    store_type: str
    filters: tuple[Any, ...]
    serializer: Any
    compressors: tuple[Any, ...]
    nbytes: int
    count_chunks_initialized: int | None = None
    nchunks: int | None = None
    nbytes_stored: int | None = None

    @classmethod
    def from_array(
        cls, array: AsyncArray, *, count_chunks: int | None = None, nbytes_stored: int | None = None
    ) -> ArrayInfo:
        """Describe ``array``; the optional counts come from :meth:`Array.info_complete`."""
        metadata = array.metadata
        return cls(
            zarr_format=array.zarr_format,
            data_type=str(getattr(metadata, "data_type", array.dtype)),
            fill_value=array.fill_value,
            shape=array.shape,
            chunk_shape=array.chunks,
            shard_shape=array.shards,
            order=array.order,
            read_only=array.read_only,
            store_type=type(array.store).__name__,
            filters=array.filters,
            serializer=array.serializer,
            compressors=array.compressors,
            nbytes=array.nbytes,
            count_chunks_initialized=count_chunks,
            nchunks=array.nchunks,
            nbytes_stored=nbytes_stored,
        )

    def __repr__(self) -> str:
        rows = [
            ("Type", "Array"),
            ("Zarr format", self.zarr_format),
            ("Data type", self.data_type),
            ("Fill value", self.fill_value),
            ("Shape", self.shape),
            ("Chunk shape", self.chunk_shape),
        ]
        if self.shard_shape is not None:
            rows.append(("Shard shape", self.shard_shape))
        rows += [
            ("Order", self.order),
            ("Read-only", self.read_only),
            ("Store type", self.store_type),
            ("Filters", self.filters),
        ]
        if self.zarr_format == 3:
            rows.append(("Serializer", self.serializer))
        rows += [("Compressors", self.compressors), ("No. bytes", byte_info(self.nbytes))]
        if self.nbytes_stored is not None:
            rows.append(("No. bytes stored", byte_info(self.nbytes_stored)))
            if self.nbytes_stored > 0:
                rows.append(("Storage ratio", f"{self.nbytes / self.nbytes_stored:.1f}"))
        if self.count_chunks_initialized is not None:
            label = "Shards Initialized" if self.shard_shape is not None else "Chunks Initialized"
            rows.append((label, self.count_chunks_initialized))
        return "\n".join(f"{name:<19}: {value}" for name, value in rows)

    __str__ = __repr__


@dataclass(frozen=True)
class GroupInfo:
    """What ``Group.info`` shows, laid out as zarr-python 3 does (the name is the path, "" for the root).

    The member counts are filled in by ``info_complete()`` (and by ``info`` of a group opened with
    consolidated metadata); they count every node below the group, at any depth.
    """

    name: str
    zarr_format: int
    read_only: bool
    store_type: str
    count_members: int | None = None
    count_arrays: int | None = None
    count_groups: int | None = None

    def __repr__(self) -> str:
        rows: list[tuple[str, Any]] = [
            ("Name", self.name),
            ("Type", "Group"),
            ("Zarr format", self.zarr_format),
            ("Read-only", self.read_only),
            ("Store type", self.store_type),
        ]
        if self.count_members is not None:
            rows += [
                ("No. members", self.count_members),
                ("No. arrays", self.count_arrays),
                ("No. groups", self.count_groups),
            ]
        return "\n".join(f"{name:<11} : {value}" for name, value in rows)

    __str__ = __repr__

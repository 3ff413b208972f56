"""h5py's filter keywords as Zarr codecs, and back; h5py's automatic chunk shape.

=========================================  ===============================  ==================================
h5py                                       Zarr V3                          Zarr V2
=========================================  ===============================  ==================================
``compression="gzip"``, opts = level       ``gzip`` codec (level)           numcodecs ``zlib`` (level)
``compression=0..9`` (legacy)              the same, that level             the same
``compression="lzf"``                      ``numcodecs.lz4`` (no LZF codec  numcodecs ``lz4``
                                           exists in Zarr; recorded as lzf)
``shuffle=True``                           ``numcodecs.shuffle``            numcodecs ``shuffle`` filter
``fletcher32=True``                        ``crc32c`` checksum codec        numcodecs ``fletcher32`` filter
``scaleoffset=n`` (floats)                 ``numcodecs.fixedscaleoffset``   numcodecs ``fixedscaleoffset``
a numcodecs codec, a codec dict            that codec as the compressor     that codec as the compressor
=========================================  ===============================  ==================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numcodecs.abc
import numpy as np

from zarrlayered.codecs.abc import BaseCodec

__all__ = ["FilterPlan", "describe_filters", "guess_chunk", "plan_filters"]

DEFAULT_GZIP = 4
_LEGACY_GZIP = tuple(range(10))
_FILTER_NAMES = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
#: Zarr compressors this front end also accepts by name (``compression="zstd", compression_opts=3``).
_ZARR_COMPRESSORS = ("zstd", "blosc", "lz4")
_NOT_COMPRESSION = frozenset({"shuffle", "crc32c", "fletcher32", "fixedscaleoffset", "bytes", "transpose"})

#: HDF5's registered filter ids (h5py's ``Dataset.filter_ids``), for the compressors that have one.
_HDF5_FILTER_IDS = {"deflate": 1, "lzf": 32000, "blosc": 32001, "lz4": 32004, "zstd": 32015, "bz2": 307}

CHUNK_BASE = 16 * 1024
CHUNK_MIN = 8 * 1024
CHUNK_MAX = 1024 * 1024


@dataclass(frozen=True)
class FilterPlan:
    """The codecs for a new array, and what goes in its h5py record."""

    filters: list[Any] = field(default_factory=list)
    compressors: list[Any] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        """True when a filter was asked for (h5py then makes the dataset chunked)."""
        return bool(self.filters or self.compressors or self.record)


def _compression_name(compression: Any, compression_opts: Any) -> tuple[Any, Any]:
    """h5py's normalisation of ``compression`` (legacy gzip levels, filter numbers)."""
    if compression is True:
        compression = "gzip"
    if isinstance(compression, int) and not isinstance(compression, bool):
        if compression in _LEGACY_GZIP:
            if compression_opts is not None:
                raise TypeError("Conflict in compression options")
            return "gzip", compression
        if compression < 0:
            raise ValueError(f"Invalid filter id {compression}")
        if compression not in _FILTER_NAMES:
            raise ValueError(f"Unknown compression filter number: {compression}")
        return _FILTER_NAMES[compression], compression_opts
    return compression, compression_opts


def _gzip_level(opts: Any) -> int:
    if opts is None:
        return DEFAULT_GZIP
    if isinstance(opts, tuple) and len(opts) == 1:
        opts = opts[0]
    if isinstance(opts, int) and not isinstance(opts, bool) and opts in _LEGACY_GZIP:
        return opts
    raise ValueError(f"GZIP setting must be an integer from 0-9, not {opts!r}")


def _named(zarr_format: int, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    if zarr_format == 2:
        return {"id": name, **config}
    return {"name": f"numcodecs.{name}", "configuration": dict(config)}


def _compressor(zarr_format: int, compression: Any, opts: Any) -> tuple[Any, dict[str, Any]]:
    if compression is None:
        return None, {}
    if isinstance(compression, numcodecs.abc.Codec | BaseCodec | Mapping):
        return compression, {}
    if compression == "gzip":
        level = _gzip_level(opts)
        if zarr_format == 2:
            return {"id": "zlib", "level": level}, {}
        return {"name": "gzip", "configuration": {"level": level}}, {}
    if compression == "lzf":
        if opts is not None:
            raise ValueError("LZF compression filter accepts no options")
        return _named(zarr_format, "lz4", {}), {"compression": "lzf"}
    if compression in _ZARR_COMPRESSORS:
        if compression == "zstd" and zarr_format == 3:
            return {"name": "zstd", "configuration": {"level": 0 if opts is None else int(opts), "checksum": False}}, {}
        config = {} if opts is None else {"clevel" if compression == "blosc" else "level": int(opts)}
        if compression == "lz4":
            config = {} if opts is None else {"acceleration": int(opts)}
        if compression == "blosc" and zarr_format == 3:
            return {"name": "blosc", "configuration": {"cname": "lz4", "clevel": int(opts or 5), "shuffle": "noshuffle",
                                                       "typesize": 1, "blocksize": 0}}, {}
        return _named(zarr_format, str(compression), config), {}
    raise ValueError(f'Compression filter "{compression}" is unavailable')


def _scaleoffset(zarr_format: int, dtype: np.dtype[Any], scaleoffset: Any) -> tuple[list[Any], dict[str, Any]]:
    if scaleoffset is None or scaleoffset is False:
        return [], {}
    if dtype.kind not in "iuf" or dtype.kind == "b":
        raise TypeError("Scale/offset filter only supported for integer and floating-point types")
    if scaleoffset is not True and (not isinstance(scaleoffset, int | np.integer) or scaleoffset < 0):
        raise ValueError("scale factor must be >= 0")
    if dtype.kind == "f":
        if scaleoffset is True:
            raise ValueError("integer scaleoffset must be provided for floating point types")
        config = {"offset": 0, "scale": 10 ** int(scaleoffset), "dtype": dtype.str, "astype": "<i8"}
        return [_named(zarr_format, "fixedscaleoffset", config)], {"scaleoffset": int(scaleoffset)}
    # integers: the stored values are exact (HDF5's minimum-bits packing has no Zarr codec)
    return [], {"scaleoffset": 0 if scaleoffset is True else int(scaleoffset)}


def plan_filters(
    zarr_format: int,
    dtype: np.dtype[Any],
    *,
    compression: Any = None,
    compression_opts: Any = None,
    shuffle: bool = False,
    fletcher32: bool = False,
    scaleoffset: Any = None,
) -> FilterPlan:
    """The codecs for h5py's filter keywords (see the module table), validated as h5py does."""
    name, opts = _compression_name(compression, compression_opts)
    if name is None and opts is not None and compression is None:
        name = "gzip"  # h5py: compression_opts alone means gzip
    compressor, record = _compressor(zarr_format, name, opts)
    filters, so_record = _scaleoffset(zarr_format, dtype, scaleoffset)
    record.update(so_record)
    itemsize = 8 if filters else max(int(dtype.itemsize), 1)
    shuffler = _named(zarr_format, "shuffle", {"elementsize": itemsize}) if shuffle else None
    if zarr_format == 2:
        if shuffler is not None:
            filters.append(shuffler)
        if fletcher32:
            filters.append({"id": "fletcher32"})
        return FilterPlan(filters, [compressor] if compressor is not None else [], record)
    compressors = [c for c in (shuffler, compressor) if c is not None]
    if fletcher32:
        compressors.append({"name": "crc32c"})
    return FilterPlan(filters, compressors, record)


def _identify(codec: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(codec, numcodecs.abc.Codec):
        config = dict(codec.get_config())
        return str(config.pop("id", codec.codec_id)), config
    to_dict = getattr(codec, "to_dict", None)
    if callable(to_dict):
        doc = to_dict()
        name = str(doc.get("name", ""))
        return name.removeprefix("numcodecs."), dict(doc.get("configuration") or {})
    return type(codec).__name__.lower(), {}


def describe_filters(filters: list[Any], compressors: list[Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """``compression``, ``compression_opts``, ``shuffle``, ``fletcher32``, ``scaleoffset`` of an array."""
    found = [_identify(c) for c in compressors]
    ids = {n for n, _ in found} | {n for n, _ in (_identify(c) for c in filters)}
    compression: Any = None
    opts: Any = None
    for name, config in found:
        if name in _NOT_COMPRESSION:
            continue
        if name in ("gzip", "zlib"):
            compression, opts = "gzip", config.get("level")
        elif name == "lz4" and record.get("compression") == "lzf":
            compression, opts = "lzf", None
        else:
            compression, opts = name, config.get("level", config.get("clevel"))
        break
    pipeline: list[tuple[str, int]] = []
    if record.get("scaleoffset") is not None:
        pipeline.append(("scaleoffset", 6))
    if "shuffle" in ids:
        pipeline.append(("shuffle", 2))
    if compression is not None:
        name = {"gzip": "deflate"}.get(compression, compression)
        pipeline.append((name, _HDF5_FILTER_IDS.get(name, 0)))
    if ids & {"crc32c", "fletcher32"}:
        pipeline.append(("fletcher32", 3))
    return {
        "compression": compression,
        "compression_opts": opts,
        "shuffle": "shuffle" in ids,
        "fletcher32": bool(ids & {"crc32c", "fletcher32"}),
        "scaleoffset": record.get("scaleoffset"),
        "filter_names": tuple(n for n, _ in pipeline),
        "filter_ids": tuple(i for _, i in pipeline),
    }


def guess_chunk(shape: tuple[int, ...], typesize: int) -> tuple[int, ...]:
    """h5py's automatic chunk shape: axes halved in turn until a chunk is near a size target (8 KiB-1 MiB,
    growing with the dataset); zero-length (unlimited) axes count as 1024."""
    ndims = len(shape)
    if ndims == 0:
        raise ValueError("Chunks not allowed for scalar datasets.")
    chunks = [float(n if n != 0 else 1024) for n in shape]
    dset_size = math.prod(chunks) * typesize
    target = CHUNK_BASE * (2 ** math.log10(dset_size / (1024.0 * 1024))) if dset_size > 0 else CHUNK_MIN
    target = min(max(target, CHUNK_MIN), CHUNK_MAX)
    idx = 0
    while True:
        chunk_bytes = math.prod(chunks) * typesize
        if (chunk_bytes < target or abs(chunk_bytes - target) / target < 0.5) and chunk_bytes < CHUNK_MAX:
            break
        if math.prod(chunks) == 1:
            break
        chunks[idx % ndims] = math.ceil(chunks[idx % ndims] / 2.0)
        idx += 1
    return tuple(int(x) for x in chunks)

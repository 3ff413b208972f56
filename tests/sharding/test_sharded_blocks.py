"""Blocks, nchunks, cdata_shape and the reported codecs of a sharded array are as in zarr-python 3.1."""

from __future__ import annotations

import numpy as np
import zarr

import zarrlayered


def test_blocks_are_shards_and_counts_are_inner_chunks() -> None:
    ref = np.arange(6000, dtype="i4").reshape(100, 60)
    ours = zarrlayered.create_array({}, shape=(100, 60), chunks=(10, 10), shards=(40, 20), dtype="i4")
    theirs = zarr.create_array({}, shape=(100, 60), chunks=(10, 10), shards=(40, 20), dtype="i4")
    ours[:] = ref
    theirs[:] = ref
    assert ours.cdata_shape == theirs.cdata_shape == (10, 6)
    assert ours.nchunks == theirs.nchunks == 60
    for sel in [(1, 1), (2, 2), (slice(1, 3), 0), (-1, slice(None))]:
        np.testing.assert_array_equal(ours.blocks[sel], theirs.blocks[sel])
    ours.blocks[2, 2] = 0
    ref[80:, 40:] = 0
    np.testing.assert_array_equal(ours[:], ref)


def test_filters_serializer_compressors_report_the_inner_codecs() -> None:
    kwargs = {"shape": (64, 64), "chunks": (8, 8), "shards": (32, 32), "dtype": "i4",
              "compressors": {"name": "gzip", "configuration": {"level": 3}}}
    ours, theirs = zarrlayered.create_array({}, **kwargs), zarr.create_array({}, **kwargs)
    assert [c.to_dict() for c in ours.compressors] == [c.to_dict() for c in theirs.compressors]
    assert ours.serializer.to_dict() == theirs.serializer.to_dict() == {
        "name": "bytes", "configuration": {"endian": "little"}}
    assert ours.filters == theirs.filters == ()
    assert ("Shard shape        : (32, 32)" in repr(ours.info)) and ("GzipCodec(level=3)" in repr(ours.info))
    ours[:] = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    target = zarrlayered.group({})
    zarrlayered.copy(ours, target, name="copied")  # rebuilt from the reported codecs: still sharded
    copied = target["copied"]
    assert copied.shards == (32, 32) and copied.chunks == (8, 8)
    assert copied.metadata.to_dict()["codecs"] == ours.metadata.to_dict()["codecs"]
    np.testing.assert_array_equal(copied[:], ours[:])

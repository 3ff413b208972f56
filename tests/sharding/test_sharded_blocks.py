"""Blocks, nchunks and cdata_shape of a sharded array count as zarr-python 3.1 does."""

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

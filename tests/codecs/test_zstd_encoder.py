"""The zstd encoder (a per-thread ``zstandard.ZstdCompressor``) writes the frames numcodecs writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numcodecs
import numcodecs.zstd
import numpy as np
import pytest
import zstandard

import zarrlayered as zl
import zarrlayered.codecs.zstd as zstd_module
from zarrlayered.codecs import ZstdCodec
from zarrlayered.codecs.limits import zstd_frame_content_size

SAME_LIBZSTD = zstandard.ZSTD_VERSION == (
    numcodecs.zstd.MAJOR_VERSION_NUMBER,
    numcodecs.zstd.MINOR_VERSION_NUMBER,
    numcodecs.zstd.MICRO_VERSION_NUMBER,
)


def _data(nbytes: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 1000, nbytes // 4).astype("<f4").tobytes()


@pytest.mark.parametrize("level", [-5, 0, 1, 3, 9, 22])
@pytest.mark.parametrize("checksum", [False, True])
@pytest.mark.parametrize("nbytes", [0, 2048, 1 << 20])
def test_frames_decode_with_numcodecs_and_declare_their_size(level: int, checksum: bool, nbytes: int) -> None:
    data = _data(nbytes)
    frame = ZstdCodec(level=level, checksum=checksum).encode(data, None)  # type: ignore[arg-type]
    assert zstd_frame_content_size(frame) == nbytes
    assert bytes(zstandard.ZstdDecompressor().decompress(frame)) == data
    if nbytes:  # numcodecs 0.16 cannot decode an empty frame, whoever wrote it
        assert bytes(numcodecs.Zstd().decode(frame)) == data
    # the frame header's checksum flag (bit 2 of the frame header descriptor) follows the setting
    assert bool(frame[4] & 0b100) is checksum
    if SAME_LIBZSTD or level in (1, -5):  # level 1 and negative levels agree across libzstd 1.5.6 and 1.5.7
        assert frame == numcodecs.Zstd(level=level, checksum=checksum).encode(data)


def test_threads_with_different_levels_keep_their_own_compressors() -> None:
    codecs = [ZstdCodec(level=level, checksum=level % 2 == 0) for level in (1, 2, 3, 4)]
    work = [(codec, _data(4096, seed)) for seed in range(64) for codec in codecs]

    def encode(item: tuple[ZstdCodec, bytes]) -> tuple[bytes, bytes]:
        codec, data = item
        return codec.encode(data, None), data  # type: ignore[arg-type]

    with ThreadPoolExecutor(8) as pool:
        for (codec, _), (frame, data) in zip(work, pool.map(encode, work), strict=True):
            assert bytes(numcodecs.Zstd().decode(frame)) == data
            assert bool(frame[4] & 0b100) is codec.checksum


@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_zstd_compressor_writes_numcodecs_frames(order: str) -> None:
    data = np.random.default_rng(1).integers(0, 100, (60, 40)).astype("f8")
    values: dict[str, bytes] = {}
    store = zl.storage.MemoryStore(values)
    array = zl.create_array(
        store,
        shape=data.shape,
        chunks=(30, 40),
        dtype="f8",
        zarr_format=2,
        order=order,
        compressors=numcodecs.Zstd(level=1, checksum=True),
    )
    array[:] = data
    np.testing.assert_array_equal(array[:], data)
    chunk = np.asarray(data[:30], order=order)
    # level 1 frames agree across libzstd 1.5.6 (numcodecs) and 1.5.7 (zstandard)
    assert bytes(values["0.0"]) == numcodecs.Zstd(level=1, checksum=True).encode(chunk)


def test_a_thread_keeps_small_contexts_only() -> None:
    """Small chunks reuse the thread's context; one that grows past KEEP_CONTEXT_NBYTES is not kept."""

    def run() -> tuple[bool, bool, bool]:
        kept = zstd_module._compressors()
        ZstdCodec(level=19).encode(_data(2048), None)  # type: ignore[arg-type]
        small = kept.get((19, False))
        kept_small = small is not None and small.memory_size() <= zstd_module.KEEP_CONTEXT_NBYTES
        ZstdCodec(level=19).encode(_data(4 << 20), None)  # type: ignore[arg-type]  # a 4 MiB chunk at level 19: a context of ~40 MiB
        dropped = (19, False) not in kept
        ZstdCodec(level=19).encode(_data(2048), None)  # type: ignore[arg-type]
        return kept_small, dropped, (19, False) in kept

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: nothing kept from other tests
        assert pool.submit(run).result() == (True, True, True)

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
    # level 1 and negative levels agree across libzstd 1.5.6 and 1.5.7; big chunks are numcodecs' own
    if SAME_LIBZSTD or level in (1, -5) or nbytes >= zstd_module.REUSE_CONTEXT_BELOW:
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


@pytest.mark.parametrize("level", [-5, 0, 3, 19])
def test_chunks_of_64_kib_and_more_are_numcodecs_frames(level: int) -> None:
    """From REUSE_CONTEXT_BELOW up, numcodecs compresses: the frames are zarr-python's, byte for byte."""
    for nbytes in (zstd_module.REUSE_CONTEXT_BELOW, 1 << 20):
        data = _data(nbytes, level + 10)
        assert ZstdCodec(level=level).encode(data, None) == numcodecs.Zstd(level=level).encode(data)  # type: ignore[arg-type]


def test_small_chunks_reuse_the_thread_context() -> None:
    def run() -> list[object]:
        kept = zstd_module._compressors()
        seen = []
        for nbytes in (2048, 4096, 1 << 20, 2048):
            ZstdCodec(level=7).encode(_data(nbytes), None)  # type: ignore[arg-type]
            seen.append(kept.get((7, False)))
        return seen

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: nothing kept from other tests
        first, second, after_big, last = pool.submit(run).result()
    assert first is not None
    assert first is second is after_big is last  # one context, untouched by the big chunk

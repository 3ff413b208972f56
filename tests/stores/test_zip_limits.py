"""A ZipStore never inflates more than a compressed member declares, nor a member declaring gigabytes.

The archives are real zip files whose headers are rewritten to lie (the central directory and the local
header agree, and the CRC matches what the lie would cover), as an attacker would craft them.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from memory_helpers import peak_below

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.errors import CorruptStoreError
from zarrlayered.stores import RangeByteRequest
from zarrlayered.stores.zip import DEFAULT_MAX_MEMBER_NBYTES, ZipStore

#: 64 MiB of zeros deflate to about 64 KiB.
BOMB_NBYTES = 64 * 2**20


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write_deflated(path: Path, name: str, nbytes: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(_deflated(name), "w") as member:
            piece = bytes(2**20)
            for _ in range(nbytes // len(piece)):
                member.write(piece)


def _declare(path: Path, size: int, crc: int) -> None:
    """Rewrite the uncompressed size and CRC-32 of the (only) member in both of its headers."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 14, crc)
    struct.pack_into("<I", data, local + 22, size)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 16, crc)
    struct.pack_into("<I", data, central + 24, size)
    path.write_bytes(bytes(data))


def test_a_member_inflating_past_its_declared_size_is_refused_as_it_inflates(tmp_path: Path) -> None:
    """The header says 100 bytes (with the CRC of those 100 zeros); the stream holds 64 MiB."""
    path = tmp_path / "lying.zip"
    _write_deflated(path, "c/0", BOMB_NBYTES)
    _declare(path, 100, zlib.crc32(bytes(100)))
    with ZipStore(path, mode="r") as store:
        assert sync(store.getsize("c/0")) == 100
        with peak_below(4 * 2**20), pytest.raises(CorruptStoreError, match="more than the 100 bytes") as info:
            store.get_sync("c/0")
    assert "'c/0'" in str(info.value)
    assert isinstance(info.value, OSError)


def test_a_member_claiming_gigabytes_is_refused_before_inflating(tmp_path: Path) -> None:
    """A header declaring 3.75 GiB is over the default 1 GiB cap: nothing is inflated, ranges neither."""
    path = tmp_path / "claims.zip"
    _write_deflated(path, "c/0", 2**20)
    _declare(path, 0xF0000000, 0)
    with ZipStore(path, mode="r") as store, peak_below(2**20):
        for byte_range in (None, RangeByteRequest(0, 10)):
            with pytest.raises(CorruptStoreError, match=rf"'c/0'.*declares {0xF0000000} bytes.*max_member_nbytes"):
                store.get_sync("c/0", byte_range)


def test_the_cap_is_configurable_and_does_not_concern_stored_members(tmp_path: Path) -> None:
    path = tmp_path / "members.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("stored", bytes(5000), compress_type=zipfile.ZIP_STORED)
        zf.writestr("deflated", bytes(5000), compress_type=zipfile.ZIP_DEFLATED)
    with ZipStore(path, mode="r", max_member_nbytes=4096) as store:
        assert store.get_sync("stored") == bytes(5000)
        with pytest.raises(CorruptStoreError, match=r"'deflated'.*5000 bytes.*max_member_nbytes \(4096\)"):
            store.get_sync("deflated")
        copy = pickle.loads(pickle.dumps(store))  # the cap survives pickling
        with pytest.raises(CorruptStoreError, match="max_member_nbytes"):
            copy.get_sync("deflated")
        copy.close()
    with ZipStore(path, mode="r", max_member_nbytes=None) as store:
        assert store.get_sync("deflated") == bytes(5000)
    assert DEFAULT_MAX_MEMBER_NBYTES == 2**30
    with pytest.raises(ValueError, match="max_member_nbytes"):
        ZipStore(path, mode="r", max_member_nbytes=-1)


def test_a_member_shorter_than_declared_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.zip"
    _write_deflated(path, "c/0", 2**20)
    _declare(path, 2**20 + 10, zlib.crc32(bytes(2**20)))
    with ZipStore(path, mode="r") as store, pytest.raises(CorruptStoreError, match="'c/0'"):
        store.get_sync("c/0")


def test_an_array_in_a_lying_archive_raises_naming_the_chunk(tmp_path: Path) -> None:
    """A real zarrlayered array in a deflated zip, whose chunk member is replaced by a lying bomb."""
    path = tmp_path / "array.zip"
    with ZipStore(path, mode="w", compression=zipfile.ZIP_DEFLATED) as store:
        array = zarrlayered.create_array(store, shape=(25,), chunks=(25,), dtype="int32", compressors=None)
        array[...] = np.arange(25)
    with ZipStore(path, mode="r") as store:
        np.testing.assert_array_equal(zarrlayered.open_array(store, mode="r")[...], np.arange(25))
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "c/0":
                dst.writestr(info, src.read(info))
        with dst.open(_deflated("c/0"), "w") as member:  # the last member: easy to patch
            for _ in range(BOMB_NBYTES // 2**20):
                member.write(bytes(2**20))
    data = bytearray(bomb.read_bytes())
    local = data.rindex(b"PK\x03\x04")
    central = data.rindex(b"PK\x01\x02")
    for at in (local + 14, central + 16):
        struct.pack_into("<I", data, at, zlib.crc32(bytes(100)))
    for at in (local + 22, central + 24):
        struct.pack_into("<I", data, at, 100)
    bomb.write_bytes(bytes(data))
    with ZipStore(bomb, mode="r") as store:
        array = zarrlayered.open_array(store, mode="r")
        with peak_below(4 * 2**20), pytest.raises(CorruptStoreError, match="'c/0'"):
            array[...]


def test_a_compressed_member_with_a_wrong_crc_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crc.zip"
    _write_deflated(path, "c/0", 2**20)
    _declare(path, 2**20, zlib.crc32(bytes(2**20)) ^ 1)
    with ZipStore(path, mode="r") as store, pytest.raises(CorruptStoreError, match=r"'c/0'.*bad CRC-32"):
        store.get_sync("c/0")

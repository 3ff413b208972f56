"""Fuzz stored chunks of every codec chain: bit flips, truncation, extension, replacement, splices.

Every read path is tried on the damaged store (a full read, a partial read across chunks, a vindex
read, and a partial write that must read-merge-rewrite the damaged chunk). Every outcome is data of
the right shape and dtype, or a documented error naming the damaged key (see ``fuzz_helpers``). For
crc32c-protected chains the data must be exactly what was written: corruption is never returned.
Without a checksum, a flipped bit in a chunk may decode to other numbers; that is what the
checksum is for (SECURITY.md says so).

28 chains x 200 examples = 5,600 cases, plus every single-bit flip of one chunk of each checksummed chain
(about 2,200 cases).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from fuzz_helpers import CASES, CHAINS, FUZZ, Case, check_error, make_case
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrlayered
from zarrlayered.errors import ChecksumError, CorruptChunkError
from zarrlayered.stores.memory import MemoryStore

EXAMPLES_PER_CHAIN = 200


@cache
def case(name: str) -> Case:
    return make_case(name)


@st.composite
def damage(draw: st.DrawFn, original: bytes) -> bytes:
    """One mutation of ``original``."""
    n = len(original)
    op = draw(st.sampled_from(["flip", "flips", "truncate", "extend", "replace", "splice", "zero", "empty"]))
    data = bytearray(original)
    if op == "flip" and n:
        i = draw(st.integers(0, n - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    elif op == "flips" and n:
        for i in draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=8)):
            data[i] ^= draw(st.integers(1, 255))
    elif op == "truncate":
        del data[draw(st.integers(0, max(n - 1, 0))) :]
    elif op == "extend":
        data += draw(st.binary(min_size=1, max_size=64))
    elif op == "replace":
        return draw(st.binary(min_size=0, max_size=2 * n + 16))
    elif op == "splice" and n:
        i = draw(st.integers(0, n - 1))
        data[i : i + draw(st.integers(0, 16))] = draw(st.binary(max_size=16))
    elif op == "zero" and n:
        i = draw(st.integers(0, n - 1))
        data[i : i + draw(st.integers(1, 32))] = bytes(min(32, n - i))
    elif op == "empty":
        return b""
    return bytes(data)


@st.composite
def damaged_store(draw: st.DrawFn, name: str) -> tuple[dict[str, bytes], str]:
    c = case(name)
    key = draw(st.sampled_from(c.chunk_keys))
    documents = dict(c.documents)
    documents[key] = draw(damage(c.documents[key]))
    return documents, key


_READS: dict[str, tuple[Any, ...]] = {
    "full": (Ellipsis,),
    "partial": (slice(1, 3), slice(2, 5)),
    "point": (3, 5),
}


def _check_read(c: Case, documents: dict[str, bytes], key: str, how: str) -> None:
    CASES["chunk"] += 1
    store = MemoryStore(dict(documents))
    try:
        array = zarrlayered.open_array(store, path="arr", mode="r")
        if how == "vindex":
            selection: Any = ([0, 3, 1], [1, 5, 2])
            got = array.vindex[selection]
            want = c.expected[selection]
        else:
            selection = _READS[how]
            got = array[selection]
            want = c.expected[selection]
    except Exception as exc:
        check_error(exc, (key,))
        assert isinstance(exc, CorruptChunkError), f"{type(exc).__name__}: {exc}"
        return
    got = np.asarray(got)
    assert got.shape == np.asarray(want).shape
    if c.checksummed:  # corruption is detected, never returned
        assert np.array_equal(got, want), f"{c.name}: wrong data read through {how} without a ChecksumError"


def _check_write(c: Case, documents: dict[str, bytes], key: str) -> None:
    CASES["chunk"] += 1
    store = MemoryStore(dict(documents))
    array = zarrlayered.open_array(store, path="arr", mode="r+")
    value = c.expected[0, 0]
    try:
        array[0:3, 1:4] = np.full((3, 3), value, dtype=c.expected.dtype)
    except Exception as exc:
        check_error(exc, (key,))
        assert isinstance(exc, CorruptChunkError)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_every_chain_reads_back_undamaged(name: str) -> None:
    """The baseline the damage is measured against (zstd frames without a content size included)."""
    c = case(name)
    got = zarrlayered.open_array(MemoryStore(dict(c.documents)), path="arr", mode="r")[...]
    assert np.array_equal(np.asarray(got), c.expected)


@pytest.mark.parametrize("name", sorted(CHAINS))
@settings(FUZZ, max_examples=EXAMPLES_PER_CHAIN)
@given(data=st.data(), how=st.sampled_from(["full", "partial", "point", "vindex", "write"]))
def test_damaged_chunks_read_as_data_or_a_named_error(name: str, data: st.DataObject, how: str) -> None:
    c = case(name)
    documents, key = data.draw(damaged_store(name), label="damaged store")
    if how == "write":
        _check_write(c, documents, key)
    else:
        _check_read(c, documents, key, how)


@pytest.mark.parametrize("name", sorted(n for n, (_, _, checked) in CHAINS.items() if checked))
def test_every_single_bit_flip_of_a_checksummed_chunk_is_caught(name: str) -> None:
    """Exhaustively: each bit of one stored chunk (or shard) flipped in turn raises ChecksumError naming it."""
    c = case(name)
    key = c.chunk_keys[0]
    original = c.documents[key]
    caught = 0
    for bit in range(len(original) * 8):
        documents = dict(c.documents)
        flipped = bytearray(original)
        flipped[bit // 8] ^= 1 << (bit % 8)
        documents[key] = bytes(flipped)
        with pytest.raises(ChecksumError) as info:
            zarrlayered.open_array(MemoryStore(documents), path="arr", mode="r")[...]
        check_error(info.value, (key,))
        caught += 1
        CASES["bit flip"] += 1
    assert caught == len(original) * 8

"""ZipStore: a store inside one zip archive, readable and writable by zarr-python's ZipStore.

Each key is one archive member of the same name. Unlike zipfile (and zarr-python 3's ZipStore), an
overwritten or deleted key leaves exactly one entry per name once the store is closed.

How writes reach the disk
-------------------------
A writable store never modifies the archive in place. Mode ``"w"`` and ``"x"`` (and ``"a"`` on a missing
file) build a new archive in a temporary file next to ``path``; mode ``"a"`` on an existing archive copies
it to such a file on the first write. :meth:`ZipStore.close` commits: when a key was overwritten or
deleted, the live entries are copied into a second temporary archive (so each name appears once), and the
result is renamed over ``path`` with :func:`os.replace`. A crash before ``close`` therefore loses the
writes made since the store was opened, never data committed earlier; a failing commit leaves ``path`` as
it was. A writable store that is garbage-collected without being closed is committed then, with a warning.

Safety
------
Members whose names could escape a directory (absolute, ``..`` or ``.`` segments, backslashes, NUL,
empty segments) are never listed or served, and a warning names them when the archive is opened; they are
left out when the archive is rewritten. Directory entries (names ending in ``/``) are not keys; they are
kept as they are.

A compressed member is inflated piece by piece, never past the size the central directory declares for
it: a member whose stream inflates to more (a lying header) raises CorruptStoreError as soon as it passes
that size, and a compressed member that declares more than ``max_member_nbytes`` (1 GiB by default) is
refused before anything is inflated. Stored (uncompressed) members are read as they are: their size is
bounded by the archive's.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import logging
import os
import shutil
import struct
import threading
import time
import weakref
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, ClassVar, Final, Self

from zarrlayered.errors import CorruptStoreError, ReadOnlyError, StoreClosedError, UnsafeKeyError
from zarrlayered.stores.abc import ByteRequest, SyncStore, validate_key
from zarrlayered.stores.local import byte_span, make_temp_file

__all__ = ["DEFAULT_MAX_MEMBER_NBYTES", "ZipStore", "parse_zip_compression", "parse_zip_mode"]

logger = logging.getLogger("zarrlayered.store")

_MODES: Final = ("r", "w", "a", "x")
_COMPRESSIONS: Final = {
    zipfile.ZIP_STORED: "ZIP_STORED",
    zipfile.ZIP_DEFLATED: "ZIP_DEFLATED",
    zipfile.ZIP_BZIP2: "ZIP_BZIP2",
    zipfile.ZIP_LZMA: "ZIP_LZMA",
}
#: The fixed part of a zip local file header (APPNOTE 4.3.7): signature ... name length, extra length.
_LOCAL_HEADER: Final = struct.Struct("<IHHHHHIIIHH")
_LOCAL_HEADER_SIGNATURE: Final = 0x04034B50
_FLAG_ENCRYPTED: Final = 0x1
_COPY_CHUNK: Final = 1 << 20

#: The largest compressed member a ZipStore inflates by default (its declared size): 1 GiB.
DEFAULT_MAX_MEMBER_NBYTES: Final = 2**30


#: What zipfile raises on a damaged archive or member (bad headers, CRCs, truncated or corrupt deflate data).
_DAMAGE: Final = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, struct.error)


def parse_zip_mode(mode: object) -> str:
    """Return ``mode`` if it is ``"r"``, ``"w"``, ``"a"`` or ``"x"``, else raise a ValueError naming it."""
    if mode not in _MODES:
        raise ValueError(f"ZipStore mode must be one of 'r', 'w', 'a', 'x', got {mode!r}")
    assert isinstance(mode, str)
    return mode


def parse_zip_compression(compression: object) -> int:
    """Return ``compression`` if it is a zipfile compression constant, else raise a ValueError naming it."""
    if isinstance(compression, bool) or compression not in _COMPRESSIONS:
        names = ", ".join(f"zipfile.{name} ({value})" for value, name in _COMPRESSIONS.items())
        raise ValueError(f"ZipStore compression must be one of {names}, got {compression!r}")
    assert isinstance(compression, int)
    return compression


def _member_kind(info: zipfile.ZipInfo) -> str:
    """``"key"`` for a store key, ``"dir"`` for a safe directory entry, ``"unsafe"`` for anything else."""
    name = info.filename
    if name != info.orig_filename:  # zipfile cut the name at a NUL
        return "unsafe"
    is_dir = name.endswith("/")
    try:
        validate_key(name[:-1] if is_dir else name)
    except UnsafeKeyError:
        return "unsafe"
    return "dir" if is_dir else "key"


def _temp_beside(path: str) -> str:
    """Create an empty temporary file in the directory of ``path`` and return its name."""
    fd, tmp = make_temp_file(os.path.dirname(path), f"-{os.path.basename(path)[:100]}")
    os.close(fd)
    return tmp


def _remove(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class _Archive:
    """The open archive behind a ZipStore and its read-only views; every zipfile call holds ``lock``."""

    def __init__(
        self, path: str, mode: str, compression: int, allow_zip64: bool, max_member_nbytes: int | None
    ) -> None:
        self.path = path
        self.max_member_nbytes = max_member_nbytes
        self.mode = mode
        self.compression = compression
        self.allow_zip64 = allow_zip64
        self.lock = threading.RLock()
        self.zf: zipfile.ZipFile | None = None
        #: The temporary file that holds the archive being written (None while nothing needs writing).
        self.work: str | None = None
        #: The newest entry of every key in the open file, deleted ones included.
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.deleted: set[str] = set()
        self.data_offsets: dict[str, int] = {}
        self.rewrite = False  # a key was overwritten or deleted: compact at close
        self.modified = False
        self.had_duplicates = False
        self.closed = False
        self._reserved = False
        try:
            self._open()
        except BaseException:
            self._discard()
            raise

    def _open(self) -> None:
        exists = os.path.exists(self.path)
        if self.mode == "r" or (self.mode == "a" and exists and os.path.getsize(self.path) > 0):
            try:
                self.zf = zipfile.ZipFile(self.path, "r", allowZip64=self.allow_zip64)
            except _DAMAGE as exc:
                raise CorruptStoreError(f"{self.path!r} is not a readable zip archive: {exc}") from exc
            self._scan()
            return
        if self.mode == "x":  # reserve the name now, so two creators cannot both succeed
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            self._reserved = True
        self.work = _temp_beside(self.path)
        self.zf = zipfile.ZipFile(self.work, "w", compression=self.compression, allowZip64=self.allow_zip64)

    def _discard(self) -> None:
        """Undo a failed open: close the archive and remove what this session created."""
        if self.zf is not None:
            with contextlib.suppress(Exception):
                self.zf.close()
            self.zf = None
        _remove(self.work)
        self.work = None
        if self._reserved:
            _remove(self.path)
            self._reserved = False
        self.closed = True

    def _scan(self) -> None:
        assert self.zf is not None
        infos: dict[str, zipfile.ZipInfo] = {}
        unsafe: list[str] = []
        for info in self.zf.infolist():
            kind = _member_kind(info)
            if kind == "key":
                if info.filename in infos:
                    self.had_duplicates = True
                infos[info.filename] = info
            elif kind == "unsafe":
                unsafe.append(info.orig_filename)
        if unsafe:
            logger.warning(
                "zip archive %r has members with unsafe names, which are not served: %s",
                self.path,
                ", ".join(repr(name) for name in unsafe),
            )
        self.infos = infos
        self.data_offsets.clear()

    # -- reading (the caller holds the lock) --------------------------------------------------------
    def _zf(self) -> zipfile.ZipFile:
        if self.closed or self.zf is None:
            raise StoreClosedError(f"zip archive {self.path!r} is closed")
        return self.zf

    def _info(self, key: str) -> zipfile.ZipInfo | None:
        info = self.infos.get(key)
        return None if info is None or key in self.deleted else info

    def get(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        with self.lock:
            zf = self._zf()
            info = self._info(key)
            if info is None:
                return None
            start, stop = byte_span(byte_range, info.file_size)
            stored = info.compress_type == zipfile.ZIP_STORED
            if not stored and self.max_member_nbytes is not None and info.file_size > self.max_member_nbytes:
                raise CorruptStoreError(
                    f"zip member {key!r} of {self.path!r} declares {info.file_size} bytes compressed, more than "
                    f"max_member_nbytes ({self.max_member_nbytes}); it is not inflated"
                )
            if start == 0 and stop == info.file_size:
                return zf.read(info) if stored else self._inflate(zf, key, info)
            if stop <= start:
                return b""
            if stored and not info.flag_bits & _FLAG_ENCRYPTED:
                fp = zf.fp
                assert fp is not None
                offset = self.data_offsets.get(key)
                if offset is None:
                    offset = self.data_offsets[key] = self._data_offset(fp, info)
                fp.seek(offset + start)
                return fp.read(stop - start)
            with zf.open(info) as member:  # compressed: zipfile decompresses up to ``start``
                member.seek(start)
                return member.read(stop - start)

    def _inflate(self, zf: zipfile.ZipFile, key: str, info: zipfile.ZipInfo) -> bytes:
        """A compressed member, inflated piece by piece and refused as soon as it passes its declared size.

        zipfile stops at the declared ``file_size`` (and inflates a whole member in one call when asked to
        read it all); reading an entry that declares one byte more shows whether the stream goes on. The
        CRC-32 is checked here, once the size is known to be right.
        """
        declared = info.file_size
        probe = copy.copy(info)
        probe.file_size = declared + 1
        if not info.flag_bits & _FLAG_ENCRYPTED:
            del probe.CRC  # zipfile would compare it with the first ``declared + 1`` bytes
        out = bytearray()
        with zf.open(probe) as member:
            while piece := member.read(min(_COPY_CHUNK, declared + 1 - len(out))):
                out += piece
                if len(out) > declared:
                    raise CorruptStoreError(
                        f"zip member {key!r} of {self.path!r} inflates to more than the {declared} bytes its "
                        "header declares"
                    )
        if len(out) != declared:
            raise CorruptStoreError(
                f"zip member {key!r} of {self.path!r} inflates to {len(out)} bytes, its header declares {declared}"
            )
        if not info.flag_bits & _FLAG_ENCRYPTED and zlib.crc32(out) != info.CRC:
            raise CorruptStoreError(f"zip member {key!r} of {self.path!r}: bad CRC-32")
        return bytes(out)

    def _data_offset(self, fp: IO[bytes], info: zipfile.ZipInfo) -> int:
        fp.seek(info.header_offset)
        header = fp.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size:
            raise zipfile.BadZipFile(f"truncated local header of {info.filename!r} in {self.path!r}")
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != _LOCAL_HEADER_SIGNATURE:
            raise zipfile.BadZipFile(f"bad local header signature of {info.filename!r} in {self.path!r}")
        return int(info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10])

    def getsize(self, key: str) -> int | None:
        with self.lock:
            self._zf()
            info = self._info(key)
            return None if info is None else info.file_size

    def keys(self) -> list[str]:
        with self.lock:
            self._zf()
            return [key for key in self.infos if key not in self.deleted]

    # -- writing -------------------------------------------------------------------------------
    def _writable_zf(self) -> zipfile.ZipFile:
        zf = self._zf()
        if self.mode == "r":
            raise ReadOnlyError(f"zip archive {self.path!r} was opened with mode 'r'")
        if self.work is not None:
            return zf
        # Mode "a" on an existing archive: write to a copy, so the original stays whole until close.
        work = _temp_beside(self.path)
        try:
            shutil.copyfile(self.path, work)
            shutil.copymode(self.path, work)
            new = zipfile.ZipFile(work, "a", compression=self.compression, allowZip64=self.allow_zip64)
        except BaseException:
            _remove(work)
            raise
        zf.close()
        self.zf, self.work = new, work
        self._scan()
        return new

    def set(self, key: str, value: bytes) -> None:
        with self.lock:
            zf = self._writable_zf()
            info = zipfile.ZipInfo(key, date_time=time.localtime()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o644 << 16  # -rw-r--r-- when extracted
            if key in self.infos:
                self.rewrite = True
                # The old entry stays in the file until close; forget it here so zipfile does not warn.
                zf.NameToInfo.pop(key, None)
            self.modified = True
            zf.writestr(info, value)
            self.infos[key] = info
            self.deleted.discard(key)
            self.data_offsets.pop(key, None)

    def delete(self, key: str) -> None:
        with self.lock:
            self._zf()
            if self.mode == "r":
                raise ReadOnlyError(f"zip archive {self.path!r} was opened with mode 'r'")
            if self._info(key) is not None:
                self.deleted.add(key)
                self.rewrite = self.modified = True

    def rename(self, src: str, dst: str) -> None:
        with self.lock:
            if not src or not dst:
                raise ValueError(f"rename needs a non-empty source and destination, got {src!r} -> {dst!r}")
            live = self.keys()
            if src in live:
                moves = [(src, dst)]
            else:
                moves = [(key, dst + key[len(src) :]) for key in live if key.startswith(f"{src}/")]
            if not moves:
                raise FileNotFoundError(f"nothing stored at {src!r} in zip archive {self.path!r}")
            values = [(new, self.get(old, None)) for old, new in moves]
            for old, _ in moves:
                self.delete(old)
            for new, value in values:
                assert value is not None
                self.set(new, value)

    # -- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            zf, self.zf = self.zf, None
            try:
                if zf is not None:
                    zf.close()
                if self.mode != "r":
                    self._commit()
            except BaseException:
                if self._reserved:  # mode "x" made nothing: give the name back
                    _remove(self.path)
                raise
            finally:
                _remove(self.work)
                self.work = None

    def _commit(self) -> None:
        source = self.work if self.work is not None else self.path
        if self.rewrite or (self.modified and self.had_duplicates):
            target = _temp_beside(self.path)
            try:
                shutil.copymode(source, target)
                self._compact(source, target)
                os.replace(target, self.path)
            except BaseException:
                _remove(target)
                raise
        elif self.work is not None:
            os.replace(self.work, self.path)
            self.work = None
        self._reserved = False

    def _compact(self, source: str, target: str) -> None:
        """Copy the newest entry of every live name of ``source`` into a new archive ``target``."""
        with (
            zipfile.ZipFile(source, "r") as src,
            zipfile.ZipFile(target, "w", compression=self.compression, allowZip64=self.allow_zip64) as dst,
        ):
            entries = src.infolist()
            newest = {info.orig_filename: info for info in entries}
            dropped: list[str] = []
            for info in entries:
                if newest[info.orig_filename] is not info:
                    continue  # overwritten later
                kind = _member_kind(info)
                if kind == "key" and info.filename in self.deleted:
                    continue
                if kind == "unsafe":
                    dropped.append(info.orig_filename)
                    continue
                copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.create_system = info.create_system
                copy.comment = info.comment
                copy.file_size = info.file_size  # lets zipfile choose ZIP64 headers up front
                with src.open(info) as reader, dst.open(copy, "w") as writer:
                    shutil.copyfileobj(reader, writer, _COPY_CHUNK)
            dst.comment = src.comment
        if dropped:
            logger.warning("rewriting %r: left out members with unsafe names %s", self.path, dropped)


def _finalize(archive: _Archive) -> None:
    """Commit a ZipStore that was garbage-collected (or still open at exit) without being closed."""
    if archive.closed:
        return
    if archive.mode != "r" and archive.modified:
        logger.warning("ZipStore %r was not closed; committing its writes now", archive.path)
    archive.close()


def _open_zip_store(
    path: str, compression: int, allow_zip64: bool, max_member_nbytes: int | None = DEFAULT_MAX_MEMBER_NBYTES
) -> ZipStore:
    """Unpickle a read-only :class:`ZipStore`: reopen the archive with mode ``"r"``."""
    return ZipStore(
        path, mode="r", compression=compression, allowZip64=allow_zip64, max_member_nbytes=max_member_nbytes
    )


class ZipStore(SyncStore):
    """A store inside a zip archive; each key is one member of that name.

    Parameters
    ----------
    path
        The archive file.
    mode
        ``"r"`` read only (FileNotFoundError when missing); ``"w"`` create or truncate; ``"a"`` read and
        write, creating the archive when missing; ``"x"`` create, FileExistsError when it exists.
    compression
        The zipfile compression of new members: ``zipfile.ZIP_STORED`` (default, which allows reading
        byte ranges without reading whole members), ``ZIP_DEFLATED``, ``ZIP_BZIP2`` or ``ZIP_LZMA``.
    allowZip64
        Allow ZIP64 extensions (members or archives past 4 GiB).
    max_member_nbytes
        The largest size a compressed member may declare to be read (:data:`DEFAULT_MAX_MEMBER_NBYTES`,
        1 GiB); a larger one raises :class:`~zarrlayered.errors.CorruptStoreError` naming it, before
        anything is inflated. None removes the cap. Stored members are not concerned.

    Notes
    -----
    Writes are committed by :meth:`close` (or the context manager); see the module documentation for
    what a crash loses (only uncommitted writes). All zipfile use is serialized by one lock, so a store
    is safe to share between threads. ``with_read_only(True)`` gives a read-only view of the same open
    archive: closing the view closes only the view, closing the store closes the archive for every view.

    Only a store opened with mode ``"r"`` can be pickled (it is reopened with mode ``"r"``); pickling a
    writable ZipStore raises TypeError, because a copy in another process could neither see nor safely
    add to writes that are not committed yet. Two ZipStores are equal when they open the same file.
    """

    blocking: ClassVar[bool] = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: str = "r",
        compression: int = zipfile.ZIP_STORED,
        allowZip64: bool = True,
        max_member_nbytes: int | None = DEFAULT_MAX_MEMBER_NBYTES,
    ) -> None:
        mode = parse_zip_mode(mode)
        compression = parse_zip_compression(compression)
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"ZipStore path must be a str or os.PathLike, got {type(path).__name__}: {path!r}")
        super().__init__(read_only=mode == "r")
        real = os.path.realpath(os.fspath(path))
        self._path = Path(real)
        if max_member_nbytes is not None and (
            isinstance(max_member_nbytes, bool) or not isinstance(max_member_nbytes, int) or max_member_nbytes < 0
        ):
            raise ValueError(f"ZipStore max_member_nbytes must be None or an int >= 0, got {max_member_nbytes!r}")
        self._archive = _Archive(real, mode, compression, bool(allowZip64), max_member_nbytes)
        self._owner = True
        self._finalizer = weakref.finalize(self, _finalize, self._archive)

    # -- identity and state ------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The archive file (resolved)."""
        return self._path

    @property
    def mode(self) -> str:
        """The mode the archive was opened with."""
        return self._archive.mode

    @property
    def compression(self) -> int:
        """The zipfile compression of new members."""
        return self._archive.compression

    @property
    def closed(self) -> bool:
        return self._closed or self._archive.closed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZipStore) and self._path == other._path

    def __hash__(self) -> int:
        return hash((ZipStore, self._path))

    def _url(self) -> str:
        return f"zip://{self._path}"

    def _describe(self) -> str:
        return f"{str(self._path)!r}, mode={self._archive.mode!r}"

    def __copy__(self) -> Self:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._owner = False
        return clone

    def __reduce__(self) -> tuple[Any, tuple[str, int, bool, int | None]]:
        archive = self._archive
        if archive.mode != "r":
            raise TypeError(
                f"cannot pickle {self!r}: a writable ZipStore holds uncommitted writes; close it and "
                f"pickle ZipStore({str(self._path)!r}, mode='r') instead"
            )
        return _open_zip_store, (archive.path, archive.compression, archive.allow_zip64, archive.max_member_nbytes)

    def with_read_only(self, read_only: bool = True) -> Self:
        """Return a view of the same open archive with the given read-only flag.

        Raises
        ------
        ValueError
            When asking for a writable view of an archive opened with mode ``"r"``.
        """
        if not read_only and self._archive.mode == "r":
            raise ValueError(f"cannot make a writable view of {self!r}: the archive was opened with mode 'r'")
        return super().with_read_only(read_only)

    def close(self) -> None:
        """Close the store; for the store that opened the archive, commit its writes and close the file."""
        self._closed = True
        if self._owner:
            self._finalizer()

    def _check_open(self) -> None:
        if self.closed:
            raise StoreClosedError(f"{self!r} is closed")

    def _check_writable(self, key: str) -> None:
        self._check_open()
        if self._read_only:
            raise ReadOnlyError(f"cannot write {key!r}: {self!r} is read-only")

    # -- the SyncStore methods ---------------------------------------------------------------------
    def _get_sync(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        try:
            return self._archive.get(key, byte_range)
        except _DAMAGE as exc:
            raise CorruptStoreError(
                f"cannot read {key!r} from the zip archive {str(self._path)!r}: {type(exc).__name__}: {exc}"
            ) from exc

    def _exists_sync(self, key: str) -> bool:
        return self._archive.getsize(key) is not None

    def _getsize_sync(self, key: str) -> int:
        size = self._archive.getsize(key)
        if size is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return size

    def _set_sync(self, key: str, value: bytes) -> None:
        self._archive.set(key, value)

    def _delete_sync(self, key: str) -> None:
        self._archive.delete(key)

    def _rename_sync(self, src: str, dst: str) -> None:
        self._archive.rename(src, dst)

    def _list_sync(self) -> builtins.list[str]:
        return self._archive.keys()

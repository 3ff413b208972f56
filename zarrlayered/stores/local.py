"""LocalStore: a store over a directory of plain files, laid out exactly as zarr-python lays it out.

The key ``a/c/0`` is the file ``<root>/a/c/0``. Values are written atomically: the bytes go to a
temporary file in the destination directory, which is then renamed over the final name with
:func:`os.replace`, so a concurrent reader sees either the old or the new complete value, never a part.
Temporary files are named ``.zarrlayered-tmp-<random>``; they are never listed, a key with a segment
starting that way is refused, and a failed write removes its temporary file. Values are not fsync'ed: a
power cut right after a write may lose it, but a rename never exposes a half-written file to readers.

Symbolic links inside the root are followed only while they stay inside it. A key that resolves to a
path outside the root (through a linked file or directory) is refused with
:class:`~zarrlayered.errors.UnsafeKeyError`, and such links are skipped (with a warning) when listing.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Generator
from pathlib import Path
from typing import ClassVar, Final

from zarrlayered.errors import UnsafeKeyError
from zarrlayered.stores.abc import (
    BufferLike,
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    SyncStore,
    to_bytes,
    validate_key,
    validate_prefix,
)

__all__ = ["TEMP_PREFIX", "LocalStore", "byte_span", "make_temp_file", "parse_root"]

logger = logging.getLogger("zarrlayered.store")

#: Name prefix of the temporary files that make writes atomic; reserved, never a key segment.
TEMP_PREFIX: Final = ".zarrlayered-tmp-"

_O_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY: Final = getattr(os, "O_BINARY", 0)
_READ_FLAGS: Final = os.O_RDONLY | _O_NOFOLLOW | _O_BINARY
_WRITE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
#: errno values of ``open(..., O_NOFOLLOW)`` on a symbolic link (Linux/macOS, FreeBSD).
_SYMLINK_ERRNOS: Final = frozenset({errno.ELOOP, errno.EMLINK})
#: Verified directories remembered before the cache is dropped and rebuilt.
_SAFE_DIR_CACHE_SIZE: Final = 65536
_MAX_IO: Final = 1 << 30
_HAS_PREAD: Final = hasattr(os, "pread")
_HAS_PREADV: Final = hasattr(os, "preadv")
#: A whole-value read first asks for this many bytes; a shorter answer is the whole file (tiny chunks,
#: metadata documents), so the file's size is never asked for. Bigger files cost one extra small read.
_FIRST_READ: Final = 16 << 10


def _read_at(fd: int, start: int, length: int) -> bytes:
    """Read ``length`` bytes at ``start`` (fewer at end of file) without touching the rest of the file."""
    if length <= 0:
        return b""
    if _HAS_PREAD:
        first = os.pread(fd, min(length, _MAX_IO), start)
    else:  # pragma: no cover - Windows
        os.lseek(fd, start, os.SEEK_SET)
        first = os.read(fd, min(length, _MAX_IO))
    if len(first) == length or not first:
        return first
    parts = [first]
    got = len(first)
    while got < length:
        if _HAS_PREAD:
            part = os.pread(fd, min(length - got, _MAX_IO), start + got)
        else:  # pragma: no cover - Windows
            part = os.read(fd, min(length - got, _MAX_IO))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_into(fd: int, buffer: memoryview) -> int:
    """Fill ``buffer`` from the start of the file (fewer bytes at end of file); the number of bytes read."""
    got = 0
    total = buffer.nbytes
    while got < total:
        part = buffer[got : got + _MAX_IO]
        if _HAS_PREADV:
            n = os.preadv(fd, [part], got)
        else:  # pragma: no cover - Windows
            data = _read_at(fd, got, part.nbytes)
            n = len(data)
            part[:n] = data
        if not n:
            break
        got += n
    return got


def _bytes_view(value: BufferLike) -> bytes | memoryview:
    """``value`` as bytes, or as a byte view of it when it is a C-contiguous buffer (no copy)."""
    if type(value) is bytes:
        return value
    if not isinstance(value, str):
        try:
            view = memoryview(value)
        except TypeError:
            pass
        else:
            if view.c_contiguous:
                return view.cast("B") if view.format != "B" or view.ndim != 1 else view
    return to_bytes(value)  # refuses what is not a buffer; copies what is not C-contiguous


def _write_all(fd: int, value: bytes | memoryview) -> None:
    view = memoryview(value)
    written = 0
    total = len(view)
    while written < total:
        written += os.write(fd, view[written : written + _MAX_IO])


def byte_span(byte_range: ByteRequest | None, size: int) -> tuple[int, int]:
    """The ``(start, stop)`` of ``byte_range`` within a value of ``size`` bytes, clipped like HTTP.

    Shared by the file-backed stores (LocalStore, ZipStore), which read only the requested bytes.
    """
    if byte_range is None:
        return 0, size
    if isinstance(byte_range, RangeByteRequest):
        return min(byte_range.start, size), min(byte_range.end, size)
    if isinstance(byte_range, OffsetByteRequest):
        return min(byte_range.offset, size), size
    return max(size - byte_range.suffix, 0), size


def make_temp_file(directory: str, suffix: str = "") -> tuple[int, str]:
    """Create a new empty temporary file in ``directory``; return its open descriptor and path.

    The name starts with :data:`TEMP_PREFIX`; the file is created exclusively with mode ``0o666`` less
    the umask, so a file renamed over its final name gets the permissions any new file would get.
    """
    while True:
        path = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(path, _WRITE_FLAGS, 0o666), path
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def parse_root(root: object) -> str:
    """Return ``root`` as an absolute path string, or raise TypeError/NotADirectoryError naming it."""
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"LocalStore root must be a str or os.PathLike, got {type(root).__name__}: {root!r}")
    path = os.fspath(root)
    if not isinstance(path, str):
        raise TypeError(f"LocalStore root must be a text path, got bytes: {path!r}")
    if not path:
        raise ValueError("LocalStore root must not be empty")
    absolute = os.path.abspath(path)
    if os.path.exists(absolute) and not os.path.isdir(absolute):
        raise NotADirectoryError(f"LocalStore root {absolute!r} exists and is not a directory")
    return absolute


def _open_local_store(root: str, read_only: bool) -> LocalStore:
    """Unpickle a :class:`LocalStore`: reopen the same directory."""
    return LocalStore(root, read_only=read_only)


class LocalStore(SyncStore):
    """A store over a directory: the key ``a/c/0`` is the file ``<root>/a/c/0``.

    Parameters
    ----------
    root
        The directory. It is created (with its parents) on the first write; a store over a missing
        directory reads as empty.
    read_only
        Refuse writes and deletes.

    Notes
    -----
    Writes are atomic (temporary file, then :func:`os.replace`); see the module documentation. A
    LocalStore pickles as its path and flag and reopens the same directory when unpickled. Two stores
    are equal when their roots resolve to the same directory and their read-only flags agree.
    """

    blocking: ClassVar[bool] = True

    def __init__(self, root: str | os.PathLike[str], *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._root_str = parse_root(root)
        self._root = Path(self._root_str)
        # Resolved once: symlinks in the path *to* the root are the user's choice and stay fixed.
        self._real_root = os.path.realpath(self._root_str)
        self._prefix = self._real_root.rstrip(os.sep) + os.sep
        # Relative directory keys known to resolve inside the root (so per-call checks are a set lookup).
        self._safe_dirs: set[str] = set()

    # -- identity ----------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The directory of the store (absolute, as given)."""
        return self._root

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, LocalStore) and self._real_root == other._real_root and self.read_only == other.read_only
        )

    def __hash__(self) -> int:
        return hash((LocalStore, self._real_root, self.read_only))

    def _url(self) -> str:
        return Path(self._root_str).as_uri()

    def _describe(self) -> str:
        return repr(self._root_str)

    def __copy__(self) -> LocalStore:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __reduce__(self) -> tuple[object, tuple[str, bool]]:
        return _open_local_store, (self._root_str, self.read_only)

    # -- paths and containment -------------------------------------------------------------------
    def _path(self, key: str) -> str:
        if TEMP_PREFIX in key and any(part.startswith(TEMP_PREFIX) for part in key.split("/")):
            raise UnsafeKeyError(f"unsafe store key {key!r}: names starting with {TEMP_PREFIX!r} are reserved")
        if os.sep != "/":  # pragma: no cover - Windows
            key = key.replace("/", os.sep)
        return self._prefix + key

    def _resolve_inside(self, rel: str) -> str:
        """Resolve the relative path ``rel`` and return it, or raise when it leaves the root."""
        real = os.path.realpath(self._path(rel))
        if real != self._real_root and not real.startswith(self._prefix):
            raise UnsafeKeyError(f"store key {rel!r} resolves to {real!r}, outside the store root {self._real_root!r}")
        return real

    def _check_dir(self, rel_dir: str) -> None:
        """Raise when the directory ``rel_dir`` (relative, '' = root) resolves outside the root."""
        if rel_dir and rel_dir not in self._safe_dirs:
            self._resolve_inside(rel_dir)

    def _remember_dir(self, rel_dir: str) -> None:
        if rel_dir:
            if len(self._safe_dirs) >= _SAFE_DIR_CACHE_SIZE:
                self._safe_dirs.clear()
            self._safe_dirs.add(rel_dir)

    def _inside(self, real: str) -> bool:
        return real == self._real_root or real.startswith(self._prefix)

    # -- reading -------------------------------------------------------------------------------
    def _open_for_read(self, key: str) -> int | None:
        """Open the file of ``key`` for reading; None when there is none. The caller closes the fd."""
        path = self._path(key)
        try:
            if not _O_NOFOLLOW:  # pragma: no cover - platforms without O_NOFOLLOW check every time
                path = self._resolve_inside(key)
            fd = os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno not in _SYMLINK_ERRNOS:
                raise
            try:  # the file itself is a symbolic link: follow it only if it stays inside the root
                fd = os.open(self._resolve_inside(key), os.O_RDONLY | _O_BINARY)
            except (FileNotFoundError, NotADirectoryError):
                return None
        parent = key.rpartition("/")[0]
        if parent and parent not in self._safe_dirs:
            try:
                self._resolve_inside(parent)
            except BaseException:
                os.close(fd)
                raise
            self._remember_dir(parent)
        return fd

    def _get_sync(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        fd = self._open_for_read(key)
        if fd is None:
            return None
        try:
            if byte_range is None and _HAS_PREAD:
                # a small file is read whole by its first read, which comes back short: no fstat needed
                try:
                    head = os.pread(fd, _FIRST_READ, 0)
                except OSError:  # a directory or a pipe: the checks below answer
                    head = None
                if head is not None and len(head) < _FIRST_READ:
                    return head
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            start, stop = byte_span(byte_range, st.st_size)
            return _read_at(fd, start, stop - start)
        finally:
            os.close(fd)

    def get_into_sync(self, key: str, buffer: memoryview) -> int | None:
        """Read the value of ``key`` straight into ``buffer`` when it is exactly ``buffer.nbytes`` long.

        Returns the size of the value (``buffer`` holds it only when that equals ``buffer.nbytes``; otherwise
        its content is unspecified and the caller reads the value as usual), or None when there is none.
        """
        self._check_open()
        fd = self._open_for_read(validate_key(key))
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size != buffer.nbytes:
                return st.st_size
            return _read_into(fd, buffer)
        finally:
            os.close(fd)

    def _stat(self, key: str) -> os.stat_result | None:
        path = self._path(key)
        try:
            st = os.stat(path, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                st = os.stat(self._resolve_inside(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        parent = key.rpartition("/")[0]
        if parent and parent not in self._safe_dirs:
            self._resolve_inside(parent)
            self._remember_dir(parent)
        return st if stat.S_ISREG(st.st_mode) else None

    def _exists_sync(self, key: str) -> bool:
        return self._stat(key) is not None

    def _getsize_sync(self, key: str) -> int:
        st = self._stat(key)
        if st is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return st.st_size

    # -- writing -------------------------------------------------------------------------------
    def set_sync(self, key: str, value: BufferLike) -> None:
        """Synchronous :meth:`set`; a C-contiguous buffer is written from where it is, without a copy."""
        self._check_writable(key)
        self._set_sync(validate_key(key), _bytes_view(value))

    def _set_sync(self, key: str, value: bytes | memoryview) -> None:
        path = self._path(key)
        parent = key.rpartition("/")[0]
        self._check_dir(parent)
        directory = path[: path.rfind(os.sep)]
        tmp = f"{directory}{os.sep}{TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            fd = os.open(tmp, _WRITE_FLAGS, 0o666)
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            fd = os.open(tmp, _WRITE_FLAGS, 0o666)
        self._remember_dir(parent)
        try:
            try:
                _write_all(fd, value)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _delete_sync(self, key: str) -> None:
        path = self._path(key)
        self._check_dir(key.rpartition("/")[0])
        try:
            os.unlink(path)  # a symbolic link is removed itself, never its target
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            pass
        except PermissionError:  # macOS reports unlink() of a directory as EPERM
            if not os.path.isdir(path):
                raise

    async def delete_dir(self, prefix: str) -> None:
        """Remove every key under ``prefix`` by removing its directory (one ``shutil.rmtree``)."""
        norm = validate_prefix(prefix)
        self._check_writable(norm or "/")
        await self._call(self._delete_dir_sync, norm)

    def _delete_dir_sync(self, prefix: str) -> None:
        self._safe_dirs.clear()
        if not prefix:
            self._clear_root()
            return
        path = self._path(prefix)
        self._check_dir(prefix.rpartition("/")[0])
        try:
            st = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISLNK(st.st_mode):
            if os.path.isdir(path):  # a linked directory: drop the link, leave its target alone
                os.unlink(path)
        elif stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)

    def _clear_root(self) -> None:
        try:
            entries = list(os.scandir(self._real_root))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue  # an in-flight write of another thread
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    def _rename_sync(self, src: str, dst: str) -> None:
        if not src or not dst:
            raise ValueError(f"rename needs a non-empty source and destination, got {src!r} -> {dst!r}")
        src_path, dst_path = self._path(src), self._path(dst)
        self._check_dir(src.rpartition("/")[0])
        self._check_dir(dst.rpartition("/")[0])
        self._safe_dirs.clear()
        try:
            src_stat = os.stat(src_path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(f"nothing stored at {src!r} in {self!r}") from None
        os.makedirs(os.path.dirname(dst_path), exist_ok=True)
        if not stat.S_ISDIR(src_stat.st_mode) or not os.path.isdir(dst_path):
            os.replace(src_path, dst_path)
            return
        # Both are directories: move the values one by one into the existing destination.
        for key in self._list_prefix_sync(f"{src}/"):
            target = self._path(dst + key[len(src) :])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(self._path(key), target)
        shutil.rmtree(src_path)

    # -- listing -------------------------------------------------------------------------------
    def _iter_keys(
        self, directory: str, key_prefix: str, real_dir: str, seen: set[str], name_start: str = ""
    ) -> Generator[str, None, None]:
        """Yield the keys below ``directory`` (whose real path is ``real_dir``), '/'-joined after ``key_prefix``."""
        try:
            scan = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        seen.add(real_dir)
        try:
            with scan:
                for entry in scan:
                    name = entry.name
                    if (name_start and not name.startswith(name_start)) or name.startswith(TEMP_PREFIX):
                        continue
                    if entry.is_symlink():
                        yield from self._iter_link(entry, key_prefix + name, seen)
                    elif entry.is_dir(follow_symlinks=False):
                        yield from self._iter_keys(
                            entry.path, f"{key_prefix}{name}/", f"{real_dir}{os.sep}{name}", seen
                        )
                    elif entry.is_file(follow_symlinks=False):
                        yield key_prefix + name
        finally:
            seen.discard(real_dir)

    def _iter_link(self, entry: os.DirEntry[str], key: str, seen: set[str]) -> Generator[str, None, None]:
        target = os.path.realpath(entry.path)
        if not self._inside(target):
            logger.warning("%r: skipping %r, a symbolic link to %r outside the store root", self, key, target)
            return
        if os.path.isdir(target):
            if target in seen:
                logger.warning("%r: skipping %r, a symbolic link that loops back to %r", self, key, target)
                return
            yield from self._iter_keys(entry.path, f"{key}/", target, seen)
        elif os.path.isfile(target):
            yield key

    def _list_sync(self) -> builtins.list[str]:
        return list(self._iter_keys(self._real_root, "", self._real_root, set()))

    def _ancestors(self, rel_dir: str, real_dir: str) -> set[str]:
        """Real paths of the root and of every directory on the way down to ``rel_dir`` (for cycle checks)."""
        parts = rel_dir.split("/")
        paths = [self._path("/".join(parts[: i + 1])) for i in range(len(parts))]
        if real_dir != paths[-1]:  # links on the way: resolve every step
            paths = [os.path.realpath(path) for path in paths]
        return {self._real_root, *paths}

    def _list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        directory, _, name_start = prefix.rpartition("/")
        if not directory:
            return list(self._iter_keys(self._real_root, "", self._real_root, set(), name_start))
        try:
            real_dir = self._resolve_inside(directory)
        except UnsafeKeyError as exc:
            logger.warning("%s; listing nothing under it", exc)
            return []
        seen = self._ancestors(directory, real_dir)
        seen.discard(real_dir)
        return list(self._iter_keys(self._path(directory), f"{directory}/", real_dir, seen, name_start))

    def _list_dir_sync(self, prefix: str) -> builtins.list[str]:
        if not prefix:
            return list(self._iter_children(self._real_root, "", self._real_root, {self._real_root}))
        try:
            real_dir = self._resolve_inside(prefix)
        except UnsafeKeyError as exc:
            logger.warning("%s; listing nothing under it", exc)
            return []
        return list(self._iter_children(self._path(prefix), f"{prefix}/", real_dir, self._ancestors(prefix, real_dir)))

    def _iter_children(
        self, directory: str, key_prefix: str, real_dir: str, seen: set[str]
    ) -> Generator[str, None, None]:
        """Names of the entries of ``directory`` that are keys or hold at least one key."""
        try:
            scan = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        with scan:
            for entry in scan:
                name = entry.name
                if name.startswith(TEMP_PREFIX):
                    continue
                if entry.is_symlink():
                    keys = self._iter_link(entry, key_prefix + name, seen)
                elif entry.is_dir(follow_symlinks=False):
                    keys = self._iter_keys(entry.path, f"{key_prefix}{name}/", f"{real_dir}{os.sep}{name}", seen)
                elif entry.is_file(follow_symlinks=False):
                    yield name
                    continue
                else:
                    continue
                if next(keys, None) is not None:
                    yield name
                keys.close()

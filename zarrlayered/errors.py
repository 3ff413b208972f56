"""Exception classes of zarrlayered.

Every class derives from a built-in exception a user already catches (KeyError, ValueError, TypeError,
OSError), so ``except KeyError`` keeps working for a missing node.
"""

from __future__ import annotations

__all__ = [
    "ArrayNotFoundError",
    "ChecksumError",
    "ContainsArrayError",
    "ContainsGroupError",
    "CorruptChunkError",
    "CorruptStoreError",
    "GroupNotFoundError",
    "MetadataValidationError",
    "MissingDimensionNamesError",
    "NodeNotFoundError",
    "ReadOnlyError",
    "SelectionTooLargeError",
    "StoreClosedError",
    "SyncError",
    "UnsafeCodecError",
    "UnsafeKeyError",
    "ZarrlayeredError",
]


class ZarrlayeredError(Exception):
    """Base class of every zarrlayered exception."""


class NodeNotFoundError(ZarrlayeredError, KeyError, ValueError, FileNotFoundError):
    """No array or group exists at the given path.

    A KeyError (a missing member of a group), and also what zarr-python 3 raises for a missing node
    (a ValueError and FileNotFoundError), so code written for either catches it.
    """

    def __str__(self) -> str:  # KeyError quotes its argument; a message reads better plain.
        return str(self.args[0]) if self.args else ""


class ArrayNotFoundError(NodeNotFoundError):
    """No array exists at the given path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group exists at the given path."""


class ContainsArrayError(ZarrlayeredError, FileExistsError, ValueError):
    """An array already exists where a new node was to be created."""


class ContainsGroupError(ZarrlayeredError, FileExistsError, ValueError):
    """A group already exists where a new node was to be created."""


class MetadataValidationError(ZarrlayeredError, ValueError):
    """A metadata document or argument is not valid; the message names the field and value."""


class MissingDimensionNamesError(ZarrlayeredError, KeyError):
    """An array has no dimension names (V3 ``dimension_names``, V2 ``_ARRAY_DIMENSIONS``), which xarray needs."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnsafeKeyError(ZarrlayeredError, ValueError):
    """A store key could escape the store's namespace (``..``, absolute path, empty segment, NUL)."""


class ReadOnlyError(ZarrlayeredError, PermissionError):
    """A write was attempted through a read-only store, array or group."""


class StoreClosedError(ZarrlayeredError, OSError):
    """The store has been closed."""


class SyncError(ZarrlayeredError, RuntimeError):
    """The sync bridge cannot run the call in this context; the message names the fix."""


class CorruptChunkError(ZarrlayeredError, ValueError):
    """A stored chunk (or shard index) cannot be decoded: truncated, corrupt, or larger than it can be.

    The message names the chunk's store key (once the engine knows it) and the problem, e.g.
    ``chunk 'a/c/0/1': codec 'gzip' cannot decode 37 bytes: ...``. The key is also in :attr:`key`.

    Parameters
    ----------
    message
        What is wrong.
    key
        The store key of the chunk, when known.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message if key is None else f"chunk {key!r}: {message}")
        self.problem = message
        self.key = key

    def at_key(self, key: str) -> CorruptChunkError:
        """The same error (same class) naming ``key``; unchanged if it already names a key."""
        if self.key is not None:
            return self
        other = type(self)(self.problem, key)
        other.__cause__ = self.__cause__
        return other


class CorruptStoreError(ZarrlayeredError, OSError):
    """The storage behind a store is damaged (e.g. a zip archive or one of its members); names the key or file."""


class ChecksumError(CorruptChunkError):
    """A stored checksum (e.g. of the ``crc32c`` codec) does not match the data: the chunk is corrupt."""


class UnsafeCodecError(ZarrlayeredError, ValueError):
    """A codec that can execute code when decoding (numcodecs ``pickle``) was refused.

    Set the config ``codecs.allow_pickle`` to True to allow it for data you trust.
    """


class SelectionTooLargeError(ZarrlayeredError, ValueError):
    """The result of a read cannot be allocated (numpy refused an array that large).

    The message names the array's path, the selection's shape and the bytes it needs; read such an array
    in pieces (or into an ``out`` array you allocate, e.g. a memory map).
    """

"""Storage transformers: the layer between an array and its store that may change chunk keys and values.

A storage transformer sits between an array and its store and may change the keys and values of the
array's chunks (never of its metadata document, which has to be read before the transformers are known).
Subclass :class:`StorageTransformer` (a frozen dataclass) and override its key/value hooks, or
:meth:`StorageTransformer.wrap` for full control. The transformers listed in an array's
``storage_transformers`` field apply in list order: the first is the one the array talks to, the last the
one that talks to the store (:func:`apply_storage_transformers`). Registry: runtime
:func:`register_storage_transformer`, then the ``zarrlayered.storage_transformers`` entry points.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from abc import ABC
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final, Self

from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.errors import MetadataValidationError
from zarrlayered.stores.abc import (
    BufferLike,
    ByteRequest,
    Store,
    apply_byte_range,
    parse_byte_request,
    to_bytes,
    validate_key,
    validate_prefix,
)
from zarrlayered.stores.wrapper import WrapperStore

__all__ = [
    "STORAGE_TRANSFORMER_ENTRY_POINT_GROUP",
    "STORAGE_TRANSFORMER_REGISTRY",
    "StorageTransformer",
    "TransformedStore",
    "apply_storage_transformers",
    "get_storage_transformer_class",
    "parse_storage_transformer",
    "parse_storage_transformers",
    "register_storage_transformer",
]

logger = logging.getLogger("zarrlayered.store")

#: The entry-point group third-party packages use to provide storage transformers.
STORAGE_TRANSFORMER_ENTRY_POINT_GROUP: Final = "zarrlayered.storage_transformers"


#: Keys at an array's root that are never transformed: its metadata documents.
_METADATA_KEYS: Final = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})


# ---------------------------------------------------------------------------------------------------
# the storage transformer ABC


@dataclass(frozen=True)
class StorageTransformer(ABC):
    """Base class of storage transformers; concrete ones are frozen dataclasses.

    A subclass sets ``transformer_name`` (the ``name`` in metadata documents); its dataclass fields are its
    ``configuration``. It changes what reaches the store by overriding any of the hooks :meth:`encode_key`
    / :meth:`decode_key` (chunk keys, relative to the array) and :meth:`encode_value` /
    :meth:`decode_value` (chunk bytes); the default hooks change nothing. :meth:`wrap` puts the hooks
    around a store as a :class:`TransformedStore`; override it to build another
    :class:`~zarrlayered.stores.wrapper.WrapperStore`.
    """

    transformer_name: ClassVar[str]

    # -- JSON ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``{"name": ..., "configuration": {...}}`` (no configuration when there are no fields)."""
        configuration = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        out: dict[str, Any] = {"name": self.transformer_name}
        if configuration:
            out["configuration"] = configuration
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the transformer from its JSON form; the configuration keys are the dataclass fields.

        Raises
        ------
        MetadataValidationError
            Unexpected keys, a configuration that is not an object, or values the constructor refuses.
        """
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"a storage transformer must be a JSON object, got {data!r}")
        name = data.get("name", getattr(cls, "transformer_name", None))
        extra = set(data) - {"name", "configuration", "must_understand"}
        if extra:
            raise MetadataValidationError(f"storage transformer {name!r} has unexpected keys {sorted(extra)}")
        configuration = data.get("configuration")
        if configuration is None:
            configuration = {}
        if not isinstance(configuration, Mapping):
            raise MetadataValidationError(
                f"storage transformer {name!r} field 'configuration' must be an object, got {configuration!r}"
            )
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(configuration) - known
        if unknown:
            raise MetadataValidationError(
                f"storage transformer {name!r} configuration has unexpected keys {sorted(unknown)}"
                f" (known: {sorted(known)})"
            )
        try:
            return cls(**configuration)
        except MetadataValidationError:
            raise
        except (TypeError, ValueError) as exc:
            raise MetadataValidationError(
                f"storage transformer {name!r} configuration {dict(configuration)!r} is invalid: {exc}"
            ) from None

    # -- hooks ---------------------------------------------------------------------------------------
    def encode_key(self, key: str) -> str:
        """The key stored for the chunk key ``key`` (both relative to the array)."""
        return key

    def decode_key(self, key: str) -> str | None:
        """The chunk key of the stored key ``key`` (inverse of :meth:`encode_key`); None hides it from listings."""
        return key

    def encode_value(self, key: str, value: bytes) -> bytes:
        """The bytes stored for the chunk ``key`` (relative to the array) holding ``value``."""
        return value

    def decode_value(self, key: str, value: bytes) -> bytes:
        """The chunk bytes of the stored ``value`` of chunk ``key`` (inverse of :meth:`encode_value`)."""
        return value

    @property
    def transforms_values(self) -> bool:
        """True when the class overrides :meth:`encode_value` or :meth:`decode_value`.

        Byte-range reads then read the whole value, and partial writes are refused.
        """
        cls = type(self)
        return (
            cls.encode_value is not StorageTransformer.encode_value
            or cls.decode_value is not StorageTransformer.decode_value
        )

    def wrap(self, store: Store, path: str = "") -> Store:
        """A store that applies this transformer to the keys of the array at ``path`` in ``store``.

        Parameters
        ----------
        store
            The store below the transformer.
        path
            The array's path in the store (``""`` for the root). Only keys under it are transformed, and
            not its metadata documents.
        """
        return TransformedStore(store, self, path)


# ---------------------------------------------------------------------------------------------------
# the store a transformer wraps around its store


class TransformedStore(WrapperStore):
    """A :class:`~zarrlayered.stores.wrapper.WrapperStore` applying a :class:`StorageTransformer`'s hooks.

    Keys outside the array at ``path``, and the array's metadata documents, pass through unchanged.

    Parameters
    ----------
    store
        The store below.
    transformer
        The transformer whose hooks are applied.
    path
        The array's path in ``store``.
    """

    def __init__(self, store: Store, transformer: StorageTransformer, path: str = "") -> None:
        super().__init__(store)
        if not isinstance(transformer, StorageTransformer):
            raise TypeError(f"TransformedStore needs a StorageTransformer, got {type(transformer).__name__}")
        self._transformer = transformer
        self._path = validate_prefix(path)
        self._prefix = f"{self._path}/" if self._path else ""
        self._values = transformer.transforms_values

    @property
    def transformer(self) -> StorageTransformer:
        """The transformer applied."""
        return self._transformer

    @property
    def path(self) -> str:
        """The path of the array whose chunk keys are transformed."""
        return self._path

    @property
    def supports_partial_writes(self) -> bool:  # type: ignore[override]
        return not self._values and self._store.supports_partial_writes

    def _describe(self) -> str:
        return f"{self._transformer!r} at {self._path!r} over {self._store!r}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TransformedStore)
            and type(other) is type(self)
            and self._store == other._store
            and self._transformer == other._transformer
            and self._path == other._path
        )

    def __hash__(self) -> int:
        return hash((type(self), self._store, self._transformer, self._path))

    # -- key mapping ---------------------------------------------------------------------------------
    def _relative(self, key: str) -> str | None:
        """The key relative to the array when the transformer applies to it, else None."""
        if not key.startswith(self._prefix):
            return None
        relative = key[len(self._prefix) :]
        return None if relative in _METADATA_KEYS else relative

    def _inner(self, relative: str) -> str:
        encoded = self._transformer.encode_key(relative)
        if not isinstance(encoded, str) or encoded in _METADATA_KEYS:
            raise ValueError(
                f"storage transformer {self._transformer.transformer_name!r} maps chunk key {relative!r} "
                f"to {encoded!r}, which is not a chunk key"
            )
        return validate_key(self._prefix + encoded)

    def _outer(self, inner_key: str) -> str | None:
        """The key the array sees for the stored key ``inner_key``; None when hidden."""
        relative = self._relative(inner_key)
        if relative is None:
            return inner_key
        decoded = self._transformer.decode_key(relative)
        return None if decoded is None else self._prefix + decoded

    def _listed_prefix(self, prefix: str) -> str:
        # inside the array, stored keys need not share the prefix of the keys the array sees
        return self._prefix if prefix.startswith(self._prefix) else prefix

    def _decode(self, relative: str, raw: bytes | None, byte_range: ByteRequest | None) -> bytes | None:
        if raw is None:
            return None
        return apply_byte_range(self._transformer.decode_value(relative, raw), byte_range)

    def _encode(self, relative: str, value: BufferLike) -> BufferLike:
        return self._transformer.encode_value(relative, to_bytes(value)) if self._values else value

    # -- reading -------------------------------------------------------------------------------------
    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        relative = self._relative(validate_key(key))
        if relative is None:
            return await self._store.get(key, byte_range)
        if not self._values:
            return await self._store.get(self._inner(relative), byte_range)
        raw = await self._store.get(self._inner(relative))
        return self._decode(relative, raw, parse_byte_request(byte_range))

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        return list(await asyncio.gather(*(self.get(key, rng) for key, rng in key_ranges)))

    async def exists(self, key: str) -> bool:
        relative = self._relative(validate_key(key))
        return await self._store.exists(key if relative is None else self._inner(relative))

    async def getsize(self, key: str) -> int:
        relative = self._relative(validate_key(key))
        if relative is None:
            return await self._store.getsize(key)
        if not self._values:
            return await self._store.getsize(self._inner(relative))
        value = await self.get(key)
        if value is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return len(value)

    def list(self) -> AsyncIterator[str]:
        return self.list_prefix("")

    async def _outer_keys(self, inner: AsyncIterator[str], prefix: str) -> AsyncIterator[str]:
        async for inner_key in inner:
            key = self._outer(inner_key)
            if key is not None and key.startswith(prefix):
                yield key

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        return self._outer_keys(self._store.list_prefix(self._listed_prefix(prefix)), prefix)

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        norm = validate_prefix(prefix)
        start = f"{norm}/" if norm else ""
        seen: set[str] = set()
        async for key in self.list_prefix(start):
            child = key[len(start) :].split("/", 1)[0]
            if child not in seen:
                seen.add(child)
                yield child

    # -- writing -------------------------------------------------------------------------------------
    async def set(self, key: str, value: BufferLike) -> None:
        relative = self._relative(validate_key(key))
        if relative is None:
            await self._store.set(key, value)
        else:
            await self._store.set(self._inner(relative), self._encode(relative, value))

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, BufferLike]]) -> None:
        if self._values:
            raise NotImplementedError(
                f"storage transformer {self._transformer.transformer_name!r} changes values: no partial writes"
            )
        items = [(self._map(key), start, value) for key, start, value in key_start_values]
        await self._store.set_partial_values(items)

    def _map(self, key: str) -> str:
        relative = self._relative(validate_key(key))
        return key if relative is None else self._inner(relative)

    async def delete(self, key: str) -> None:
        await self._store.delete(self._map(key))

    async def rename(self, src: str, dst: str) -> None:
        for name in (src, dst):
            if self._relative(validate_prefix(name)) is not None:
                raise NotImplementedError(
                    f"cannot rename {name!r}: it lies inside the transformed array {self._path!r}"
                )
        await self._store.rename(src, dst)

    # -- the synchronous fast path -------------------------------------------------------------------
    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        relative = self._relative(validate_key(key))
        if relative is None:
            return self._store.get_sync(key, byte_range)
        if not self._values:
            return self._store.get_sync(self._inner(relative), byte_range)
        raw = self._store.get_sync(self._inner(relative))
        return self._decode(relative, raw, parse_byte_request(byte_range))

    def set_sync(self, key: str, value: BufferLike) -> None:
        relative = self._relative(validate_key(key))
        if relative is None:
            self._store.set_sync(key, value)
        else:
            self._store.set_sync(self._inner(relative), self._encode(relative, value))

    def exists_sync(self, key: str) -> bool:
        return self._store.exists_sync(self._map(key))

    def delete_sync(self, key: str) -> None:
        self._store.delete_sync(self._map(key))

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        out = []
        for inner_key in self._store.list_prefix_sync(self._listed_prefix(prefix)):
            key = self._outer(inner_key)
            if key is not None and key.startswith(prefix):
                out.append(key)
        return out


# ---------------------------------------------------------------------------------------------------
# the storage transformer registry

def _check_class(name: str, cls: object, where: str = "the class") -> type[StorageTransformer]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"storage transformer name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, StorageTransformer)):
        raise TypeError(f"{where} for storage transformer {name!r} must be a StorageTransformer subclass, got {cls!r}")
    if not isinstance(getattr(cls, "transformer_name", None), str):
        raise TypeError(f"{where} for storage transformer {name!r}: {cls.__name__} sets no 'transformer_name'")
    return cls


#: The storage transformer registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`).
STORAGE_TRANSFORMER_REGISTRY: Final = ExtensionRegistry[type[StorageTransformer]](
    "storage transformer",
    STORAGE_TRANSFORMER_ENTRY_POINT_GROUP,
    _check_class,
    unknown="unknown {kind} {name!r}; known: {known} (register more with register_storage_transformer or the "
    "{group!r} entry-point group)",
    logger=logger,
)


def register_storage_transformer(name: str, cls: type[StorageTransformer]) -> None:
    """Register ``cls`` under the storage transformer name ``name``; it takes precedence over entry points.

    Parameters
    ----------
    name
        The ``name`` of the transformer in metadata documents.
    cls
        A :class:`StorageTransformer` subclass that sets ``transformer_name``.
    """
    STORAGE_TRANSFORMER_REGISTRY.register(name, cls)


def get_storage_transformer_class(name: str) -> type[StorageTransformer]:
    """The class of the storage transformer ``name`` (runtime registrations, then entry points).

    Raises
    ------
    MetadataValidationError
        No transformer of that name is registered, or its entry point does not load.
    """
    if not isinstance(name, str):
        raise MetadataValidationError(f"storage transformer field 'name' must be a string, got {name!r}")
    return STORAGE_TRANSFORMER_REGISTRY.get(name)


def parse_storage_transformer(value: object, where: str = "storage_transformers") -> StorageTransformer | None:
    """One storage transformer from an object (returned as is), a name, or its JSON form.

    Returns None for an unknown transformer marked ``"must_understand": false`` (it may be ignored).

    Raises
    ------
    MetadataValidationError
        An unknown transformer that must be understood, or a bad document; the message starts with ``where``.
    """
    if isinstance(value, StorageTransformer):
        return value
    document: Mapping[str, Any]
    if isinstance(value, str):
        document = {"name": value}
    elif isinstance(value, Mapping):
        document = value
    else:
        raise MetadataValidationError(f"{where} must hold objects with a 'name', got {value!r}")
    name = document.get("name")
    if not isinstance(name, str):
        raise MetadataValidationError(f"{where} holds an entry whose 'name' is not a string: {dict(document)!r}")
    must_understand = document.get("must_understand", True)
    if not isinstance(must_understand, bool):
        raise MetadataValidationError(
            f"{where} entry {name!r} field 'must_understand' must be true or false, got {must_understand!r}"
        )
    try:
        cls = get_storage_transformer_class(name)
    except MetadataValidationError as exc:
        if not must_understand:
            logger.debug("ignoring unknown storage transformer %r (must_understand is false)", name)
            return None
        raise MetadataValidationError(f"{where} holds {name!r}, which zarrlayered does not support: {exc}") from None
    try:
        return cls.from_dict(document)
    except MetadataValidationError as exc:
        raise MetadataValidationError(f"{where} entry {name!r} is invalid: {exc}") from None


def parse_storage_transformers(
    values: Iterable[object] | None, where: str = "storage_transformers"
) -> tuple[StorageTransformer, ...]:
    """The storage transformers of an array's ``storage_transformers`` list, in list order.

    Unknown transformers marked ``"must_understand": false`` are left out.

    Parameters
    ----------
    values
        The list (of objects, names or JSON documents); None means none.
    where
        How error messages name the list, e.g. ``"zarr.json field 'storage_transformers'"``.

    Raises
    ------
    MetadataValidationError
        Not a list, or an entry :func:`parse_storage_transformer` refuses; unknown names are named.
    """
    if values is None:
        return ()
    if isinstance(values, str | bytes | Mapping | StorageTransformer) or not isinstance(values, Iterable):
        raise MetadataValidationError(f"{where} must be a list, got {values!r}")
    out = (parse_storage_transformer(value, where) for value in values)
    return tuple(t for t in out if t is not None)


def apply_storage_transformers(store: Store, path: str, transformers: Sequence[StorageTransformer]) -> Store:
    """``store`` seen through ``transformers`` for the array at ``path``.

    The first transformer is the outermost (the array talks to it), the last wraps ``store`` directly.
    """
    for transformer in reversed(transformers):
        store = transformer.wrap(store, path)
    return store

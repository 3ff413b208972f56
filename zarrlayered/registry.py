"""Every extension registry of zarrlayered in one place, and the storage transformer registry.

zarrlayered looks each extension up by name in a registry filled from three sources, in this order:

1. classes registered at runtime with a ``register_*`` function (they win over everything else);
2. the built-ins;
3. the entry points of installed distributions, loaded lazily the first time a name is missed.

======================  ====================================  ====================================
extension               runtime registration                  entry-point group
======================  ====================================  ====================================
codecs (V3 ``codecs``)  :func:`register_codec`                ``zarrlayered.codecs``
data types              :func:`register_data_type`            ``zarrlayered.data_types``
chunk grids             :func:`register_chunk_grid`           ``zarrlayered.chunk_grids``
chunk key encodings     :func:`register_chunk_key_encoding`   ``zarrlayered.chunk_key_encodings``
storage transformers    :func:`register_storage_transformer`  ``zarrlayered.storage_transformers``
store URL schemes       :func:`register_store`                ``zarrlayered.stores``
======================  ====================================  ====================================

An entry point's name is the extension's name (the URL scheme, for stores) and its value the class
(a factory ``(url, mode, storage_options) -> Store``, for stores), e.g. in a plug-in's ``pyproject.toml``::

    [project.entry-points."zarrlayered.codecs"]
    "acme.xor" = "acme_zarr:XorCodec"

    [project.entry-points."zarrlayered.stores"]
    acme = "acme_zarr:open_acme_store"

Storage transformers
--------------------
A storage transformer sits between an array and its store and may change the keys and values of the
array's chunks (never of its metadata document, which has to be read before the transformers are known).
Subclass :class:`StorageTransformer` (a frozen dataclass) and override its key/value hooks, or
:meth:`StorageTransformer.wrap` for full control. The transformers listed in an array's
``storage_transformers`` field apply in list order: the first is the one the array talks to, the last the
one that talks to the store (:func:`apply_storage_transformers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zarrlayered.codecs.abc import ArrayArrayCodec, ArrayBytesCodec, BaseCodec, BytesBytesCodec, ChunkSpec
from zarrlayered.codecs.registry import get_codec_class, register_codec
from zarrlayered.core.chunk_grids import ChunkGrid, get_chunk_grid_class, register_chunk_grid
from zarrlayered.core.chunk_key_encodings import (
    ChunkKeyEncoding,
    get_chunk_key_encoding_class,
    register_chunk_key_encoding,
)
from zarrlayered.core.dtypes.base import DataType
from zarrlayered.core.dtypes.registry import get_data_type_class, register_data_type, registered_data_types
from zarrlayered.core.storage_transformers import (
    STORAGE_TRANSFORMER_ENTRY_POINT_GROUP,
    StorageTransformer,
    TransformedStore,
    apply_storage_transformers,
    get_storage_transformer_class,
    parse_storage_transformer,
    parse_storage_transformers,
    register_storage_transformer,
)
from zarrlayered.stores.abc import Store
from zarrlayered.stores.registry import StoreFactory, get_store_factory, register_store
from zarrlayered.stores.wrapper import WrapperStore

__all__ = [
    "ENTRY_POINT_GROUPS",
    "STORAGE_TRANSFORMER_ENTRY_POINT_GROUP",
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BaseCodec",
    "BytesBytesCodec",
    "ChunkGrid",
    "ChunkKeyEncoding",
    "ChunkSpec",
    "DataType",
    "StorageTransformer",
    "Store",
    "StoreFactory",
    "TransformedStore",
    "WrapperStore",
    "apply_storage_transformers",
    "get_chunk_grid_class",
    "get_chunk_key_encoding_class",
    "get_codec_class",
    "get_data_type_class",
    "get_storage_transformer_class",
    "get_store_factory",
    "parse_storage_transformer",
    "parse_storage_transformers",
    "register_chunk_grid",
    "register_chunk_key_encoding",
    "register_codec",
    "register_data_type",
    "register_storage_transformer",
    "register_store",
    "registered_data_types",
]

#: The entry-point group of every kind of extension.
ENTRY_POINT_GROUPS: Final[Mapping[str, str]] = {
    "codecs": "zarrlayered.codecs",
    "data_types": "zarrlayered.data_types",
    "chunk_grids": "zarrlayered.chunk_grids",
    "chunk_key_encodings": "zarrlayered.chunk_key_encodings",
    "storage_transformers": STORAGE_TRANSFORMER_ENTRY_POINT_GROUP,
    "stores": "zarrlayered.stores",
}

"""xarray backend entry point: ``xr.open_dataset(path, engine="zarrlayered")``.

The backend reads Zarr stores laid out the way xarray writes them: V2 arrays name their dimensions in the
``_ARRAY_DIMENSIONS`` attribute, V3 arrays in ``dimension_names``; consolidated metadata is used when the
store has some. Only the raw, encoded variables come from here: CF decoding (``scale_factor``,
``_FillValue``, times, strings) is left to xarray, so a dataset opened with ``engine="zarrlayered"`` is
the one xarray's own ``engine="zarr"`` gives. Data is read lazily, on indexing, and with ``chunks={}``
as Dask arrays chunked like the storage.

The module is loaded by xarray through the ``xarray.backends`` entry point; nothing else in zarrlayered
imports it, so xarray stays an optional dependency.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

try:
    from xarray import Dataset, DataTree, Variable
    from xarray.backends import AbstractDataStore, BackendArray, BackendEntrypoint, StoreBackendEntrypoint
    from xarray.core import indexing
except ImportError as exc:  # pragma: no cover - xarray loads this module, so it is installed
    raise ImportError("zarrlayered's xarray backend needs the xarray package; install xarray") from exc

from zarrlayered.array import Array
from zarrlayered.errors import GroupNotFoundError, MissingDimensionNamesError
from zarrlayered.group import Group
from zarrlayered.stores.abc import Store

__all__ = ["ZarrlayeredBackendArray", "ZarrlayeredBackendEntrypoint", "ZarrlayeredDataStore"]

#: The attribute of a V2 array that names its dimensions (xarray's convention).
DIMENSION_KEY = "_ARRAY_DIMENSIONS"
#: Metadata files that mark a directory as a Zarr node.
_NODE_FILES = ("zarr.json", ".zgroup", ".zarray", ".zmetadata")
_STRING_DTYPE: np.dtype[Any] | None = np.dtypes.StringDType() if hasattr(np.dtypes, "StringDType") else None

_OPEN_PARAMETERS = (
    "filename_or_obj",
    "mask_and_scale",
    "decode_times",
    "concat_characters",
    "decode_coords",
    "drop_variables",
    "use_cftime",
    "decode_timedelta",
    "group",
    "consolidated",
    "storage_options",
    "zarr_format",
    "use_zarr_fill_value_as_mask",
)


# -- the lazily indexed array --------------------------------------------------------------------------------
def _codec_name(codec: Any) -> str | None:
    name = getattr(codec, "codec_id", None)  # numcodecs (V2 filters)
    if name is None and callable(getattr(codec, "to_dict", None)):
        name = codec.to_dict().get("name")  # zarrlayered codecs (V3)
    return name if isinstance(name, str) else None


def _is_vlen_utf8(array: Array) -> bool:
    codecs = (*array.filters, array.serializer) if array.serializer is not None else array.filters
    return any(_codec_name(codec) == "vlen-utf8" for codec in codecs)


def _is_basic(key: tuple[Any, ...]) -> bool:
    return all(isinstance(k, int | np.integer | slice) for k in key)


class ZarrlayeredBackendArray(BackendArray):
    """A zarrlayered :class:`~zarrlayered.Array` as an xarray backend array.

    xarray hands it basic and outer (orthogonal) keys; vectorized keys are split by xarray into an outer
    read and an in-memory step. Variable-length UTF-8 strings are presented as numpy's ``StringDType``,
    as zarr-python 3 does, so the dataset matches xarray's own zarr engine.

    Parameters
    ----------
    array
        The array to read.
    """

    __slots__ = ("_array", "_as_strings", "dtype", "shape")

    def __init__(self, array: Array) -> None:
        self._array = array
        self.shape = array.shape
        dtype = array.dtype
        self._as_strings = dtype.kind == "O" and _STRING_DTYPE is not None and _is_vlen_utf8(array)
        self.dtype = _STRING_DTYPE if self._as_strings and _STRING_DTYPE is not None else dtype

    def get_array(self) -> Array:
        """The zarrlayered array behind this backend array."""
        return self._array

    def _finish(self, value: Any) -> np.ndarray[Any, Any]:
        out = np.asarray(value)
        if self._as_strings:
            out = out.astype(self.dtype)
        return out

    def _raw_getitem(self, key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
        if _is_basic(key):
            return self._finish(self._array[key])
        return self._finish(self._array.oindex[key])

    async def _raw_async_getitem(self, key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
        engine = self._array.async_array
        kind = "basic" if _is_basic(key) else "orthogonal"
        return self._finish(await engine.get_selection(key, kind))

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray[Any, Any]:
        result: np.ndarray[Any, Any] = indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._raw_getitem
        )
        return result

    async def async_getitem(self, key: indexing.ExplicitIndexer) -> np.ndarray[Any, Any]:
        """Read ``key`` on the running event loop (xarray's ``load_async``)."""
        adapter = getattr(indexing, "async_explicit_indexing_adapter", None)
        if adapter is None:  # pragma: no cover - an xarray without asynchronous loading
            raise NotImplementedError("this xarray has no asynchronous indexing")
        result: np.ndarray[Any, Any] = await adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._raw_async_getitem
        )
        return result


# -- fill values -------------------------------------------------------------------------------------------
def decode_fill_value_attribute(value: Any, dtype: np.dtype[Any]) -> Any:
    """Decode the ``_FillValue`` attribute xarray writes on V3 arrays (floats as base64 of a ``<d``).

    Kinds xarray does not encode (strings, bytes) are returned as they are.
    """
    if dtype.kind == "f" and isinstance(value, str | bytes):
        return struct.unpack("<d", base64.standard_b64decode(value))[0]
    if dtype.kind == "c" and isinstance(value, list | tuple) and len(value) == 2:
        real, imag = (struct.unpack("<d", base64.standard_b64decode(part))[0] for part in value)
        return complex(real, imag)
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu" and isinstance(value, int | float | np.integer | np.floating):
        return int(value)
    return value


# -- the data store ----------------------------------------------------------------------------------------
def _dimensions_and_attributes(name: str, array: Array) -> tuple[tuple[str, ...], dict[str, Any]]:
    attributes = dict(array.attrs)
    if array.zarr_format == 3:
        names = getattr(array.metadata, "dimension_names", None) or ()
        if len(names) != array.ndim or any(dim is None for dim in names):
            raise MissingDimensionNamesError(
                f"array {name!r} has dimension_names {list(names) or None} for {array.ndim} dimensions; "
                "xarray needs a name for every dimension"
            )
        return tuple(names), attributes
    try:
        dims = attributes.pop(DIMENSION_KEY)
    except KeyError:
        raise MissingDimensionNamesError(
            f"array {name!r} has no {DIMENSION_KEY!r} attribute, which xarray needs to name its dimensions"
        ) from None
    if not isinstance(dims, list | tuple) or len(dims) != array.ndim:
        raise MissingDimensionNamesError(f"array {name!r} has {DIMENSION_KEY}={dims!r} for {array.ndim} dimensions")
    attributes = {key: value for key, value in attributes.items() if not key.lower().startswith("_nc")}
    return tuple(dims), attributes


def _codec_encoding(array: Array) -> dict[str, Any]:
    """``compressors``, ``filters`` (and for V3 ``serializer``) as xarray's ``to_zarr`` takes them back.

    V2 codecs are numcodecs objects, as zarr-python gives them. V3 codecs are their JSON dicts; for a
    sharded array they are the codecs of the inner chunks (the shard shape is the ``shards`` entry), as
    zarr-python reports them.
    """
    if array.zarr_format == 2:
        return {"compressors": tuple(array.compressors), "filters": tuple(array.filters)}
    serializer = array.serializer  # a sharded array reports its inner codecs
    encoding: dict[str, Any] = {
        "compressors": tuple(c.to_dict() for c in array.compressors),
        "filters": tuple(c.to_dict() for c in array.filters),
    }
    if serializer is not None:
        encoding["serializer"] = serializer.to_dict()
    return encoding


class ZarrlayeredDataStore(AbstractDataStore):
    """The encoded variables and attributes of one Zarr group, for xarray's CF decoding.

    Parameters
    ----------
    group
        The group to read.
    use_zarr_fill_value_as_mask
        Give each variable the Zarr ``fill_value`` as its ``_FillValue`` (masking it as missing). None
        means xarray's default: yes for V2 data, no for V3 (whose ``_FillValue`` is an attribute).
    close
        What closing the store does (closing a store the backend opened); None does nothing.
    """

    def __init__(
        self,
        group: Group,
        *,
        use_zarr_fill_value_as_mask: bool | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.group = group
        self.zarr_format = group.metadata.zarr_format
        if use_zarr_fill_value_as_mask is None:
            use_zarr_fill_value_as_mask = self.zarr_format == 2
        self._mask_with_fill_value = use_zarr_fill_value_as_mask
        self._close = close
        self._arrays = dict(group.arrays())

    def open_store_variable(self, name: str, array: Array) -> Variable:
        """The encoded variable of ``array``, lazily indexed."""
        dims, attributes = _dimensions_and_attributes(name, array)
        backend_array = ZarrlayeredBackendArray(array)
        chunks = tuple(array.chunks)
        encoding: dict[str, Any] = {"chunks": chunks, "preferred_chunks": dict(zip(dims, chunks, strict=True))}
        if backend_array.dtype.kind == "T":
            encoding["dtype"] = backend_array.dtype
        encoding.update(_codec_encoding(array))
        encoding["shards"] = array.shards
        if self._mask_with_fill_value:
            if array.fill_value is not None:
                attributes["_FillValue"] = array.fill_value
        else:
            if self.zarr_format == 3:
                encoding["fill_value"] = array.fill_value
            if "_FillValue" in attributes:
                attributes["_FillValue"] = decode_fill_value_attribute(attributes["_FillValue"], array.dtype)
        return Variable(dims, indexing.LazilyIndexedArray(backend_array), attributes, encoding)

    def get_variables(self) -> dict[str, Variable]:
        """Every array of the group as an encoded variable."""
        return {name: self.open_store_variable(name, array) for name, array in self._arrays.items()}

    def get_attrs(self) -> dict[str, Any]:
        """The group's attributes (NCZarr's ``_nc*`` bookkeeping left out)."""
        return {key: value for key, value in dict(self.group.attrs).items() if not key.lower().startswith("_nc")}

    def get_dimensions(self) -> dict[str, int]:
        """Each dimension's length, over all arrays (a ValueError when two arrays disagree)."""
        sizes: dict[str, int] = {}
        for name, array in self._arrays.items():
            dims, _ = _dimensions_and_attributes(name, array)
            for dim, size in zip(dims, array.shape, strict=True):
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"array {name!r} has dimension {dim!r} of length {size}, others {sizes[dim]}")
        return sizes

    def close(self) -> None:
        """Close the store when the backend opened it."""
        if self._close is not None:
            self._close()


# -- opening -----------------------------------------------------------------------------------------------
def _normalize_group(group: str | None) -> str:
    return (group or "").strip("/")


def _subgroup(root: Group, group: str) -> Group:
    node = root[group] if group else root
    if not isinstance(node, Group):
        raise GroupNotFoundError(f"{group!r} in {root.store_path!r} is an array, not a group")
    return node


def open_root(
    filename_or_obj: Any,
    *,
    consolidated: bool | None,
    storage_options: Mapping[str, Any] | None,
    zarr_format: int | None,
    group: str = "",
) -> tuple[Group, Callable[[], None] | None]:
    """Open the group to read, and how to close the store when the backend made it.

    With ``consolidated`` True or None the root is opened (through its consolidated metadata, which
    True requires) and ``group`` is looked up from there, as xarray's zarr engine does; False reads each
    node's own metadata.
    """
    from zarrlayered.api import open_group
    from zarrlayered.stores.make import make_store

    if isinstance(filename_or_obj, Group):
        return _subgroup(filename_or_obj, group), None
    if isinstance(filename_or_obj, os.PathLike):
        filename_or_obj = os.fspath(filename_or_obj)
    owned = not isinstance(filename_or_obj, Store)
    store = make_store(filename_or_obj, mode="r", storage_options=storage_options)
    close = store.close if owned else None
    fmt: Any = zarr_format
    try:
        if consolidated is False:
            node = open_group(store, mode="r", path=group or None, use_consolidated=False, zarr_format=fmt)
        else:
            node = _subgroup(open_group(store, mode="r", use_consolidated=consolidated, zarr_format=fmt), group)
    except BaseException:
        if close is not None:
            close()
        raise
    return node, close


class ZarrlayeredBackendEntrypoint(BackendEntrypoint):
    """Open Zarr V2 and V3 stores in xarray with zarrlayered: ``engine="zarrlayered"``.

    Accepts what :func:`zarrlayered.open_group` accepts: a directory, a ``.zip`` file, a URL
    (``s3://``, ``gs://``, ``https://``, chained ``simplecache::`` ...; with ``storage_options``),
    a zarrlayered Store or Group.

    Examples
    --------
    >>> ds = xr.open_dataset("data.zarr", engine="zarrlayered", chunks={})  # doctest: +SKIP
    >>> tree = xr.open_datatree("data.zarr", engine="zarrlayered")  # doctest: +SKIP
    """

    description = "Open Zarr V2 and V3 stores (.zarr) with zarrlayered"
    #: No hosted documentation yet: the README's xarray section describes the engine.
    url = ""
    open_dataset_parameters: ClassVar[tuple[str, ...]] = _OPEN_PARAMETERS
    supports_groups: ClassVar[bool] = True

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """True for zarrlayered Stores and Groups, paths and URLs ending in ``.zarr``, and local
        directories holding Zarr metadata."""
        if isinstance(filename_or_obj, Store | Group):
            return True
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        text = os.fspath(filename_or_obj).rstrip("/")
        if os.path.splitext(text)[1] == ".zarr":
            return True
        if "://" in text or "::" in text:
            return False
        path = Path(text)
        return path.is_dir() and any((path / name).is_file() for name in _NODE_FILES)

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        mask_and_scale: bool = True,
        decode_times: Any = True,
        concat_characters: bool = True,
        decode_coords: Any = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: Any = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: Mapping[str, Any] | None = None,
        zarr_format: int | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> Dataset:
        """Open one group as a :class:`xarray.Dataset` (CF decoding by xarray with these arguments).

        Parameters
        ----------
        filename_or_obj
            A path, URL, zarrlayered Store or Group.
        mask_and_scale, decode_times, concat_characters, decode_coords, drop_variables, use_cftime, decode_timedelta
            Passed to xarray's CF decoding (see :func:`xarray.open_dataset`).
        group
            The path of the group to open (default the root).
        consolidated
            True requires consolidated metadata, False ignores it, None uses it when there is some.
        storage_options
            fsspec options, with URLs only.
        zarr_format
            2 or 3; None detects it.
        use_zarr_fill_value_as_mask
            Treat each array's Zarr ``fill_value`` as ``_FillValue``; None: yes for V2, no for V3.
        """
        node, close = open_root(
            filename_or_obj,
            consolidated=consolidated,
            storage_options=storage_options,
            zarr_format=zarr_format,
            group=_normalize_group(group),
        )
        store = ZarrlayeredDataStore(node, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask, close=close)
        try:
            return _decode(store, mask_and_scale=mask_and_scale, decode_times=decode_times,
                           concat_characters=concat_characters, decode_coords=decode_coords,
                           drop_variables=drop_variables, use_cftime=use_cftime, decode_timedelta=decode_timedelta)
        except BaseException:
            store.close()
            raise

    def open_groups_as_dict(
        self,
        filename_or_obj: Any,
        *,
        mask_and_scale: bool = True,
        decode_times: Any = True,
        concat_characters: bool = True,
        decode_coords: Any = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: Any = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: Mapping[str, Any] | None = None,
        zarr_format: int | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> dict[str, Dataset]:
        """Open ``group`` (default the root) and every group below it: ``{"/": ds, "/a/b": ds, ...}``.

        The arguments are :meth:`open_dataset`'s. Closing the root dataset closes the store.
        """
        top, close = open_root(
            filename_or_obj,
            consolidated=consolidated,
            storage_options=storage_options,
            zarr_format=zarr_format,
            group=_normalize_group(group),
        )
        options = dict(mask_and_scale=mask_and_scale, decode_times=decode_times, concat_characters=concat_characters,
                       decode_coords=decode_coords, drop_variables=drop_variables, use_cftime=use_cftime,
                       decode_timedelta=decode_timedelta)
        try:
            nodes: list[tuple[str, Group]] = [("/", top)]
            nodes += [(f"/{path}", node) for path, node in top.members(max_depth=None) if isinstance(node, Group)]
            return {
                path: _decode(
                    ZarrlayeredDataStore(node, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask,
                                         close=close if path == "/" else None),
                    **options,
                )
                for path, node in nodes
            }
        except BaseException:
            if close is not None:
                close()
            raise

    def open_datatree(
        self,
        filename_or_obj: Any,
        **kwargs: Any,
    ) -> DataTree:
        """Open ``group`` (default the root) and the groups below it as a :class:`xarray.DataTree`.

        The keyword arguments are :meth:`open_dataset`'s. Closing the tree closes the store.
        """
        groups = self.open_groups_as_dict(filename_or_obj, **kwargs)
        try:
            tree = DataTree.from_dict(groups)
        except BaseException:
            groups["/"].close()
            raise
        tree.set_close(groups["/"].close)
        return tree


def _decode(store: ZarrlayeredDataStore, **options: Any) -> Dataset:
    dataset: Dataset = StoreBackendEntrypoint().open_dataset(store, **options)
    return dataset

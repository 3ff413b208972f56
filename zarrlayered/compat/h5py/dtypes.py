"""h5py's special dtypes (variable-length strings, enums, vlen sequences) and :class:`Empty`.

The helpers tag numpy dtypes with the same ``dtype.metadata`` keys h5py uses (``vlen``, ``enum``,
``h5py_encoding``), so a dtype made here is understood by real h5py and the other way round.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "Empty",
    "check_dtype",
    "check_enum_dtype",
    "check_opaque_dtype",
    "check_string_dtype",
    "check_vlen_dtype",
    "enum_dtype",
    "opaque_dtype",
    "special_dtype",
    "string_dtype",
    "string_info",
    "vlen_dtype",
]


class string_info(NamedTuple):
    """What :func:`check_string_dtype` reports: the encoding and the fixed length (None: variable)."""

    encoding: str
    length: int | None


class Empty:
    """An empty (null) dataspace: a dataset or attribute with a dtype and no shape, as ``h5py.Empty``.

    Parameters
    ----------
    dtype
        Anything ``numpy.dtype`` accepts (None means float64).
    """

    shape = None
    size = None

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Empty) or type(other).__name__ == "Empty":
            return bool(self.dtype == getattr(other, "dtype", None))
        return False

    def __hash__(self) -> int:
        return hash(("Empty", self.dtype.str))

    def __repr__(self) -> str:
        return f"Empty(dtype={self.dtype!r})"


def _normal_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"Unknown encoding {encoding!r}") from None
    if name not in ("ascii", "utf-8"):
        raise ValueError(f"Invalid encoding ({encoding!r}); 'utf-8' or 'ascii' allowed")
    return name


def string_dtype(encoding: str = "utf-8", length: int | None = None) -> np.dtype[Any]:
    """A dtype for strings, as ``h5py.string_dtype``.

    Parameters
    ----------
    encoding
        ``"utf-8"`` (stored as Zarr ``string``) or ``"ascii"`` (stored as variable-length bytes).
    length
        None for variable-length strings (read as ``bytes`` objects); an int for fixed-length ``S<n>``.
    """
    enc = _normal_encoding(encoding)
    if isinstance(length, int) and not isinstance(length, bool):
        fixed: np.dtype[Any] = np.dtype(f"|S{length}", metadata={"h5py_encoding": enc})
        return fixed
    if length is None:
        return np.dtype("O", metadata={"vlen": str if enc == "utf-8" else bytes})
    raise TypeError(f"length must be integer or None (got {length!r})")


def vlen_dtype(basetype: Any) -> np.dtype[Any]:
    """A variable-length sequence dtype of ``basetype`` (``h5py.vlen_dtype``)."""
    return np.dtype("O", metadata={"vlen": basetype})


def enum_dtype(values_dict: Mapping[str, int], basetype: Any = np.uint8) -> np.dtype[Any]:
    """An integer dtype carrying the names of its values (``h5py.enum_dtype``)."""
    dt = np.dtype(basetype)
    if dt.kind not in "iu":
        raise TypeError("Only integer types can be used as enums")
    tagged: np.dtype[Any] = np.dtype(dt, metadata={"enum": dict(values_dict)})
    return tagged


def _metadata(dt: Any) -> Mapping[str, Any]:
    try:
        dtype = np.dtype(dt)
    except TypeError:
        return {}
    return dtype.metadata or {}


def check_vlen_dtype(dt: Any) -> Any:
    """The base type of a variable-length dtype (``str``, ``bytes``, a dtype), or None."""
    return _metadata(dt).get("vlen")


def check_enum_dtype(dt: Any) -> dict[str, int] | None:
    """The ``{name: value}`` of an enum dtype, or None."""
    found = _metadata(dt).get("enum")
    return None if found is None else dict(found)


def opaque_dtype(np_dtype: Any) -> np.dtype[Any]:
    """``np_dtype`` tagged to be stored as it is (h5py's opaque types; needed for datetime64/timedelta64)."""
    dtype = np.dtype(np_dtype)
    if dtype.hasobject:
        raise TypeError("Cannot store numpy object arrays as opaque data")
    if dtype.names is not None:
        raise TypeError("Cannot make opaque versions of compound dtypes")
    if dtype.subdtype is not None:
        raise TypeError("Cannot make opaque versions of array dtypes")
    if dtype.kind in "biufc":
        raise TypeError("Only make opaque versions of types without an HDF5 equivalent")
    tagged: np.dtype[Any] = np.dtype(dtype, metadata={**(dtype.metadata or {}), "h5py_opaque": True})
    return tagged


def check_opaque_dtype(dt: Any) -> bool:
    """True for a dtype h5py would store as an opaque type."""
    return bool(_metadata(dt).get("h5py_opaque", False))


def check_string_dtype(dt: Any) -> string_info | None:
    """``string_info(encoding, length)`` for string dtypes, None for others (``h5py.check_string_dtype``)."""
    kind = check_vlen_dtype(dt)
    if kind is str:
        return string_info("utf-8", None)
    if kind is bytes:
        return string_info("ascii", None)
    dtype = np.dtype(dt)
    if dtype.kind == "S":
        return string_info(_metadata(dtype).get("h5py_encoding", "ascii"), dtype.itemsize)
    return None


def special_dtype(**kwds: Any) -> np.dtype[Any]:
    """The legacy spelling: ``special_dtype(vlen=str)``, ``special_dtype(enum=(base, {...}))``."""
    if len(kwds) != 1:
        raise TypeError("Exactly one keyword may be provided")
    name, value = next(iter(kwds.items()))
    if name == "vlen":
        return vlen_dtype(value)
    if name == "enum":
        try:
            basetype, values = value
        except (TypeError, ValueError):
            raise TypeError("Enums must be created from a 2-tuple (basetype, values_dict)") from None
        return enum_dtype(values, basetype)
    if name == "ref":
        raise NotImplementedError("object and region references have no Zarr equivalent")
    raise TypeError(f'Unknown special type "{name}"')


def check_dtype(**kwds: Any) -> Any:
    """The legacy spelling: ``check_dtype(vlen=dt)``, ``check_dtype(enum=dt)``, ``check_dtype(ref=dt)``."""
    if len(kwds) != 1:
        raise TypeError("Exactly one keyword may be provided")
    name, dt = next(iter(kwds.items()))
    if name == "vlen":
        return check_vlen_dtype(dt)
    if name == "enum":
        return check_enum_dtype(dt)
    if name == "ref":
        return _metadata(dt).get("ref")
    raise TypeError(f'Unknown special type "{name}"')

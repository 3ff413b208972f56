"""An h5py-style front end over Zarr: ``import zarrlayered.h5py_compat as h5py`` and h5py code runs on Zarr.

See :mod:`zarrlayered.h5py_compat` for the public names and ``migration_guide/from_h5py.md`` for what
changes (nothing on the common path) and what is not supported (links, references, HDF5 drivers).
"""

from __future__ import annotations

from zarrlayered.compat.h5py.attrs import AttributeManager
from zarrlayered.compat.h5py.base import HardLink, ItemsViewHDF5, KeysViewHDF5, ValuesViewHDF5
from zarrlayered.compat.h5py.create import H5pyDeprecationWarning, H5pyWarning
from zarrlayered.compat.h5py.dataset import Dataset
from zarrlayered.compat.h5py.dtypes import (
    Empty,
    check_dtype,
    check_enum_dtype,
    check_opaque_dtype,
    check_string_dtype,
    check_vlen_dtype,
    enum_dtype,
    opaque_dtype,
    special_dtype,
    string_dtype,
    string_info,
    vlen_dtype,
)
from zarrlayered.compat.h5py.file import File
from zarrlayered.compat.h5py.group import Group
from zarrlayered.compat.h5py.record import RESERVED_KEY
from zarrlayered.compat.h5py.selection import MultiBlockSlice
from zarrlayered.compat.h5py.wrappers import AsStrWrapper, AstypeWrapper, FieldsWrapper

__all__ = [
    "RESERVED_KEY",
    "AsStrWrapper",
    "AstypeWrapper",
    "AttributeManager",
    "Dataset",
    "Empty",
    "FieldsWrapper",
    "File",
    "Group",
    "H5pyDeprecationWarning",
    "H5pyWarning",
    "HardLink",
    "ItemsViewHDF5",
    "KeysViewHDF5",
    "MultiBlockSlice",
    "ValuesViewHDF5",
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

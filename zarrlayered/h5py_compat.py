"""h5py's API on Zarr: replace ``import h5py`` with ``import zarrlayered.h5py_compat as h5py``.

``File``, ``Group``, ``Dataset`` and ``AttributeManager`` behave as h5py's (modes, errors, indexing,
attributes, printed values), storing a Zarr hierarchy in a directory, a zip archive or any store URL.
HDF5-only features (soft/external links, object and region references, drivers, SWMR, the low-level
``h5py.h5*`` modules) are not available. Implemented in :mod:`zarrlayered.compat.h5py`.
"""

from __future__ import annotations

from zarrlayered.compat.h5py import (
    RESERVED_KEY,
    AsStrWrapper,
    AstypeWrapper,
    AttributeManager,
    Dataset,
    Empty,
    FieldsWrapper,
    File,
    Group,
    H5pyDeprecationWarning,
    H5pyWarning,
    HardLink,
    ItemsViewHDF5,
    KeysViewHDF5,
    MultiBlockSlice,
    ValuesViewHDF5,
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

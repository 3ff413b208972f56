"""h5py's API on Zarr: replace ``import h5py`` with ``import zarrlayered.h5py_compat as h5py``.

``File``, ``Group``, ``Dataset`` and ``AttributeManager`` behave as h5py's (modes, errors, indexing,
attributes, printed values), storing a Zarr hierarchy in a directory, a zip archive or any store URL.
HDF5-only features (soft/external links, object and region references, drivers, SWMR, the low-level
``h5py.h5*`` modules) are not available. Implemented in :mod:`zarrlayered.compat.h5py`.
"""

from __future__ import annotations

# The public names are the package's: one list (zarrlayered.compat.h5py.__all__), re-exported here.
from zarrlayered.compat.h5py import *  # noqa: F403
from zarrlayered.compat.h5py import __all__  # noqa: F401  (the public names, one list)

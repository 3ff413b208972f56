"""Compatibility front ends: h5py-style API and MutableMapping views."""

"""Fixtures of the front-end tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import zarr


@pytest.fixture(autouse=True)
def _quiet_zarr() -> Iterator[None]:
    """zarr-python 3 warns that consolidated metadata is not in the V3 spec (and about deprecated names)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        warnings.simplefilter("ignore", zarr.errors.ZarrDeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield

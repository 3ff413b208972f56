"""xarray backend entry point ``engine="zarrlayered"`` (being built; see issue 10)."""

from __future__ import annotations

"""Reusable test kits for extension authors (needs pytest)."""

from __future__ import annotations

from zarrlayered.testing.store import StoreTests

__all__ = ["StoreTests"]

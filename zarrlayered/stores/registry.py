"""Store schemes: which store class opens a URL.

A scheme (``myproto`` in ``myproto://...``) maps to a factory ``(url, mode, storage_options) -> Store``.
Factories come from :func:`register_store` at runtime and from the ``zarrlayered.stores`` entry-point
group (the entry point's name is the scheme, its value the factory). A URL whose scheme no one
registered goes to fsspec.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.stores.abc import Store

__all__ = ["STORE_REGISTRY", "StoreFactory", "get_store_factory", "register_store"]

logger = logging.getLogger("zarrlayered.store")

StoreFactory: TypeAlias = Callable[[str, str | None, Mapping[str, Any] | None], Store]


def _check_store_factory(scheme: str, factory: object) -> StoreFactory:
    if not isinstance(scheme, str) or not scheme.replace("-", "").replace("+", "").isalnum():
        raise ValueError(f"store scheme must be a simple name like 'myproto', got {scheme!r}")
    if not callable(factory):
        raise TypeError(f"store factory for {scheme!r} must be callable, got {factory!r}")
    return factory


#: The store scheme registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`); schemes are lower case.
STORE_REGISTRY: Final = ExtensionRegistry[StoreFactory](
    "store scheme", "zarrlayered.stores", _check_store_factory, logger=logger
)


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make URLs ``scheme://...`` open with ``factory(url, mode, storage_options)``."""
    _check_store_factory(scheme, factory)
    STORE_REGISTRY.register(scheme.lower(), factory)


def get_store_factory(scheme: str) -> StoreFactory | None:
    """The factory registered for ``scheme`` (runtime first, then entry points), or None.

    Raises
    ------
    MetadataValidationError
        The entry point providing ``scheme`` cannot be loaded.
    """
    return STORE_REGISTRY.find(scheme.lower())

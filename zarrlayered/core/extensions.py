"""One registry mechanism for every kind of extension: runtime registrations, built-ins and entry points.

Each kind of extension (codecs, data types, chunk grids, chunk key encodings, storage transformers, store
URL schemes) keeps an :class:`ExtensionRegistry`; its module's ``register_*`` / ``get_*`` functions are
thin wrappers around it. A name is looked up in this order:

1. objects registered at runtime with :meth:`ExtensionRegistry.register` (they win over everything else);
2. the built-ins (given as objects, or as ``"module:attr"`` references imported on first lookup);
3. the entry points of the registry's group: the group is listed once, on the first name missed, and each
   entry point is loaded the first time its own name is asked for (and only then, and only once);
4. a fallback function, for registries that make objects for a whole family of names (``numcodecs.*``).

An entry point or built-in reference that fails to load, or loads something the registry's ``check``
refuses, is logged as a warning and remembered: a lookup of its name raises a
:class:`~zarrlayered.errors.MetadataValidationError` saying why (without importing it again), and listing
every extension (:meth:`ExtensionRegistry.snapshot`) leaves it out. It never breaks other names.

Tests undo their registrations with :meth:`ExtensionRegistry.restoring`; a distribution installed while the
process runs becomes visible after :meth:`ExtensionRegistry.refresh_entry_points`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from zarrlayered.errors import MetadataValidationError

__all__ = ["ExtensionRegistry"]

T = TypeVar("T")


@dataclass(frozen=True)
class _State(Generic[T]):
    """Everything :meth:`ExtensionRegistry.restoring` puts back."""

    registered: dict[str, T]
    resolved: dict[str, T]
    broken: dict[str, str]
    index: dict[str, EntryPoint] | None
    all_loaded: bool


class ExtensionRegistry(Generic[T]):
    """Named extensions of one kind, from runtime registrations, built-ins and an entry-point group.

    Thread-safe: lookups of names already resolved take no lock; resolving a name (importing a built-in
    module or loading an entry point) happens under the registry's re-entrant lock, so it happens once
    even when threads race, and a plug-in module may call ``register`` while it is being imported.

    Parameters
    ----------
    kind
        What the extensions are, for messages (``"codec"``, ``"chunk grid"``).
    group
        The entry-point group third-party distributions provide them under (``"zarrlayered.codecs"``).
    check
        ``check(name, obj)`` returns ``obj`` if it may be registered under ``name``, else raises
        TypeError or ValueError naming what is wrong. It guards :meth:`register` (its error reaches the
        caller) and every loaded entry point or built-in reference (its error marks that name broken).
    builtins
        The built-in extensions, name -> object, or name -> ``"module:attr"`` to import on first lookup.
    fallback
        ``fallback(name)`` is asked, after everything else, for a name nothing provides; it returns the
        object (kept for later lookups), None when it does not know the name either, or raises
        MetadataValidationError itself.
    unknown
        The message of the error :meth:`get` raises for an unknown name: a :meth:`str.format` template
        with the fields ``kind``, ``name``, ``group`` and ``known`` (the sorted :meth:`names`).
    logger
        Where loading is logged (debug) and broken extensions are reported (warning).
    """

    def __init__(
        self,
        kind: str,
        group: str,
        check: Callable[[str, object], T],
        *,
        builtins: Mapping[str, T | str] | None = None,
        fallback: Callable[[str], T | None] | None = None,
        unknown: str = "unknown {kind} {name!r}",
        logger: logging.Logger | None = None,
    ) -> None:
        self._kind = kind
        self._group = group
        self._check = check
        self._fallback = fallback
        self._unknown = unknown
        self._logger = logger if logger is not None else logging.getLogger("zarrlayered")
        self._builtin_objects: dict[str, T] = {}
        self._builtin_refs: dict[str, str] = {}
        for name, value in (builtins or {}).items():
            if isinstance(value, str):
                self._builtin_refs[name] = value
            else:
                self._builtin_objects[name] = value
        self._lock = threading.RLock()
        self._registered: dict[str, T] = {}
        self._resolved: dict[str, T] = {}  # built-in references, entry points and fallbacks loaded so far
        self._broken: dict[str, str] = {}  # name -> why it cannot be loaded
        self._index: dict[str, EntryPoint] | None = None  # the group's entry points, listed on first need
        self._all_loaded = False

    def __repr__(self) -> str:
        return f"<ExtensionRegistry of {self._kind}s, entry-point group {self._group!r}>"

    @property
    def kind(self) -> str:
        """What the extensions are, as messages name them."""
        return self._kind

    @property
    def group(self) -> str:
        """The entry-point group."""
        return self._group

    # -- registering ---------------------------------------------------------------------------------
    def register(self, name: str, obj: T) -> None:
        """Register ``obj`` under ``name``, replacing any earlier registration; it wins over built-ins.

        Raises
        ------
        TypeError, ValueError
            From the registry's ``check``: ``obj`` may not be registered under ``name``.
        """
        checked = self._check(name, obj)
        with self._lock:
            self._registered[name] = checked

    # -- looking up ----------------------------------------------------------------------------------
    def find(self, name: str) -> T | None:
        """The extension called ``name``, or None if nothing provides it.

        Raises
        ------
        MetadataValidationError
            ``name`` is provided by an entry point or built-in reference that cannot be loaded.
        """
        found = self._known(name)
        if found is not None:
            return found
        with self._lock:
            return self._resolve(name)

    def get(self, name: str) -> T:
        """The extension called ``name``.

        Raises
        ------
        MetadataValidationError
            Nothing provides ``name`` (the registry's ``unknown`` message), or what provides it cannot be
            loaded.
        """
        found = self.find(name)
        if found is None:
            message = self._unknown.format(kind=self._kind, name=name, group=self._group, known=self.names())
            raise MetadataValidationError(message)
        return found

    def names(self) -> list[str]:
        """The sorted names of every extension known without loading anything.

        Runtime registrations, built-ins, and the entry points of the group (their names only: an entry
        point already found broken is left out), plus whatever the fallback has provided so far.
        """
        with self._lock:
            index = self._entry_points()
            names = {*self._registered, *self._builtin_objects, *self._builtin_refs, *self._resolved}
            names.update(name for name in index if name not in self._broken)
            return sorted(names)

    def snapshot(self) -> dict[str, T]:
        """Every extension, name -> object, loading every built-in reference and entry point not loaded yet.

        Broken ones are logged and left out. The order is built-ins, entry points, runtime registrations
        (a registration of a built-in's name replaces it in its place).
        """
        with self._lock:
            if not self._all_loaded:
                for name in [*self._builtin_refs, *self._entry_points()]:
                    if name not in self._registered and name not in self._builtin_objects:
                        try:
                            self._resolve(name)
                        except MetadataValidationError:
                            pass  # logged when it broke
                self._all_loaded = True
            out = dict(self._builtin_objects)
            for name, obj in self._resolved.items():
                out.setdefault(name, obj)
            out.update(self._registered)
            return out

    # -- entry points and undoing --------------------------------------------------------------------
    def refresh_entry_points(self) -> None:
        """Forget the entry points listed and loaded so far (and the fallback's objects, and broken names).

        The next lookup lists the group again: call this after installing a distribution, or putting one
        on ``sys.path``, while the process runs. Runtime registrations stay.
        """
        with self._lock:
            self._index = None
            self._resolved = {name: obj for name, obj in self._resolved.items() if name in self._builtin_refs}
            self._broken = {}
            self._all_loaded = False

    @contextmanager
    def restoring(self) -> Iterator[None]:
        """A context manager putting the registry back as it was on entry: for tests.

        Registrations made inside the block are undone, registrations removed or replaced come back, and
        what was listed or loaded from entry points (e.g. after :meth:`refresh_entry_points` inside the
        block) is forgotten again.
        """
        with self._lock:
            saved = _State(
                dict(self._registered), dict(self._resolved), dict(self._broken), self._index, self._all_loaded
            )
        try:
            yield
        finally:
            with self._lock:
                self._registered = saved.registered
                self._resolved = saved.resolved
                self._broken = saved.broken
                self._index = saved.index
                self._all_loaded = saved.all_loaded

    # -- internals (called under the lock, but for _known) -------------------------------------------
    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._index is None:
            index: dict[str, EntryPoint] = {}
            for ep in entry_points(group=self._group):
                index.setdefault(ep.name, ep)  # two distributions with one name: the first on sys.path wins
            self._index = index
        return self._index

    def _known(self, name: str) -> T | None:
        """The extension ``name`` if it needs no loading (no lock needed: each step is one dict lookup)."""
        found = self._registered.get(name)
        if found is None:
            found = self._builtin_objects.get(name)
        if found is None:
            found = self._resolved.get(name)
        return found

    def _resolve(self, name: str) -> T | None:
        found = self._known(name)  # again, under the lock: another thread may have loaded it meanwhile
        if found is not None:
            return found
        if name in self._broken:
            raise MetadataValidationError(self._broken[name])
        if name in self._builtin_refs:
            found = self._load(name, EntryPoint(name, self._builtin_refs[name], self._group), "is not available")
        elif (ep := self._entry_points().get(name)) is not None:
            found = self._load(name, ep, "cannot be loaded")
            self._logger.debug("loaded %s %r from entry point %s", self._kind, name, ep.value)
        elif self._fallback is not None:
            found = self._fallback(name)
        if found is None:
            return None
        self._resolved[name] = found
        registered = self._registered.get(name)  # the import may have registered the name itself
        return found if registered is None else registered

    def _load(self, name: str, ep: EntryPoint, failure: str) -> T:
        try:
            return self._check(name, ep.load())
        except Exception as exc:  # a broken plug-in must not break anything but its own name
            message = f"{self._kind} {name!r} {failure}: {exc}"
            self._logger.warning("%s (%s = %s in %r)", message, ep.name, ep.value, self._group)
            self._broken[name] = message
            raise MetadataValidationError(message) from exc

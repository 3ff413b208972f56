"""ExtensionRegistry, the mechanism under every registry: precedence, lazy once-only entry points from real
distributions on sys.path, broken plug-ins, unknown names and undoing registrations; and the six registries
built on it."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import zarrlayered.codecs.registry as codec_registry
import zarrlayered.core.chunk_grids as chunk_grids
import zarrlayered.core.chunk_key_encodings as chunk_key_encodings
import zarrlayered.core.dtypes.registry as dtype_registry
import zarrlayered.core.storage_transformers as storage_transformers
import zarrlayered.stores.registry as store_registry
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.chunk_key_encodings import V2ChunkKeyEncoding
from zarrlayered.core.dtypes.numeric import Int8
from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.core.storage_transformers import StorageTransformer
from zarrlayered.errors import MetadataValidationError
from zarrlayered.registry import ENTRY_POINT_GROUPS
from zarrlayered.stores.memory import MemoryStore

BASE_MODULE = """
LOADS = []


class Widget:
    pass


class BuiltinWidget(Widget):
    pass


class RuntimeWidget(Widget):
    pass
"""


@dataclass
class Plugins:
    """Real distributions (a module plus a ``.dist-info`` with ``entry_points.txt``) on sys.path for one test.

    Module names start with ``prefix`` and the entry points go to ``group``, both unique to the test.
    """

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    prefix: str
    group: str

    def install(self, dist: str, modules: Mapping[str, str], entry_points: Mapping[str, str]) -> None:
        """Install distribution ``dist`` in a fresh directory at the front of sys.path.

        ``modules`` maps a short module name to its source (the module is ``<prefix>_<short>``; ``{p}`` in
        the sources and entry point values stands for the prefix); ``entry_points`` maps names to values.
        """
        directory = self.tmp_path / dist
        directory.mkdir()
        for short, source in modules.items():
            (directory / f"{self.prefix}_{short}.py").write_text(textwrap.dedent(source).replace("{p}", self.prefix))
        info = directory / f"{self.prefix}_{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {self.prefix}-{dist}\nVersion: 1.0\n")
        lines = [f"{name} = {value.replace('{p}', self.prefix)}" for name, value in entry_points.items()]
        (info / "entry_points.txt").write_text(f"[{self.group}]\n" + "\n".join(lines) + "\n")
        self.monkeypatch.syspath_prepend(str(directory))

    def module(self, short: str) -> Any:
        return importlib.import_module(f"{self.prefix}_{short}")

    def imported(self, short: str) -> bool:
        return f"{self.prefix}_{short}" in sys.modules


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Plugins]:
    prefix = f"zl_ext_{uuid.uuid4().hex[:12]}"
    setup = Plugins(tmp_path, monkeypatch, prefix, f"zl_test.{prefix}")
    setup.install("base", {"base": BASE_MODULE}, {})
    yield setup
    for name in [name for name in sys.modules if name.startswith(prefix)]:
        del sys.modules[name]


def widget_registry(
    plugins: Plugins,
    *,
    builtins: Mapping[str, Any] | None = None,
    fallback: Callable[[str], Any] | None = None,
    unknown: str = "unknown {kind} {name!r}",
    checked: list[str] | None = None,
) -> ExtensionRegistry[type[Any]]:
    widget = plugins.module("base").Widget

    def check(name: str, cls: object) -> type[Any]:
        if checked is not None:
            checked.append(name)
        if not (isinstance(cls, type) and issubclass(cls, widget)):
            raise TypeError(f"widget {name!r} must be a Widget subclass, got {cls!r}")
        return cls

    return ExtensionRegistry[type[Any]](
        "widget",
        plugins.group,
        check,
        builtins=builtins,
        fallback=fallback,
        unknown=unknown,
        logger=logging.getLogger("zarrlayered.test_extensions"),
    )


PLUGIN_MODULE = """
from {p}_base import LOADS, Widget

LOADS.append(__name__)


class PluginWidget(Widget):
    pass


class SharedWidget(Widget):
    pass
"""


# ---------------------------------------------------------------------------------------------------
# precedence


def test_runtime_registrations_win_over_builtins_which_win_over_entry_points(plugins: Plugins) -> None:
    base = plugins.module("base")
    plugins.install(
        "shadowing",
        {"plugin": PLUGIN_MODULE},
        {"shared": "{p}_plugin:SharedWidget", "plugin": "{p}_plugin:PluginWidget"},
    )
    registry = widget_registry(plugins, builtins={"shared": base.BuiltinWidget}, fallback=lambda name: None)
    assert registry.get("shared") is base.BuiltinWidget
    assert not plugins.imported("plugin")  # the entry point of a built-in's name is never loaded
    assert registry.get("plugin").__name__ == "PluginWidget"

    registry.register("shared", base.RuntimeWidget)
    registry.register("plugin", base.RuntimeWidget)
    assert registry.get("shared") is base.RuntimeWidget
    assert registry.get("plugin") is base.RuntimeWidget  # even after the entry point was loaded
    snapshot = registry.snapshot()
    assert snapshot["shared"] is snapshot["plugin"] is base.RuntimeWidget
    assert list(snapshot) == ["shared", "plugin"]


def test_fallback_comes_last_and_its_objects_are_kept(plugins: Plugins) -> None:
    base = plugins.module("base")
    plugins.install("family", {"plugin": PLUGIN_MODULE}, {"fam.plugin": "{p}_plugin:PluginWidget"})
    asked: list[str] = []

    def fallback(name: str) -> type[Any] | None:
        asked.append(name)
        if name.startswith("fam.bad"):
            raise MetadataValidationError(f"the family has no {name!r}")
        return type(name, (base.Widget,), {}) if name.startswith("fam.") else None

    registry = widget_registry(plugins, fallback=fallback)
    assert registry.get("fam.plugin").__name__ == "PluginWidget"
    made = registry.get("fam.x")
    assert made.__name__ == "fam.x"
    assert registry.get("fam.x") is made
    assert registry.find("other") is None
    with pytest.raises(MetadataValidationError, match=r"the family has no 'fam\.bad'"):
        registry.get("fam.bad")
    assert asked == ["fam.x", "other", "fam.bad"]  # never for names an entry point provides; once for fam.x


def test_builtin_references_are_imported_on_first_lookup_only(plugins: Plugins) -> None:
    plugins.install("lazy", {"lazy": PLUGIN_MODULE}, {})
    registry = widget_registry(
        plugins, builtins={"lazy": f"{plugins.prefix}_lazy:PluginWidget", "gone": f"{plugins.prefix}_nope:X"}
    )
    assert registry.names() == ["gone", "lazy"]
    assert not plugins.imported("lazy")
    assert registry.get("lazy") is plugins.module("lazy").PluginWidget
    with pytest.raises(MetadataValidationError, match=r"widget 'gone' is not available: No module named"):
        registry.get("gone")


# ---------------------------------------------------------------------------------------------------
# entry points: lazy, once


def test_entry_points_are_loaded_lazily_and_once(plugins: Plugins) -> None:
    plugins.install(
        "lazy",
        {"one": PLUGIN_MODULE, "two": PLUGIN_MODULE},
        {"one": "{p}_one:PluginWidget", "two": "{p}_two:PluginWidget"},
    )
    checked: list[str] = []
    registry = widget_registry(plugins, checked=checked)
    assert registry.names() == ["one", "two"]  # listed, not loaded
    assert not plugins.imported("one") and not plugins.imported("two")

    found = registry.get("one")
    assert found is plugins.module("one").PluginWidget
    assert not plugins.imported("two")  # asking for one name loads only its entry point
    assert registry.get("one") is found
    assert checked == ["one"]
    loaded_modules = plugins.module("base").LOADS
    assert loaded_modules == [plugins.prefix + "_one"]

    snapshot = registry.snapshot()  # loads every entry point not loaded yet
    assert sorted(snapshot) == ["one", "two"]
    assert registry.snapshot() == snapshot
    assert checked == ["one", "two"]


def test_the_group_is_listed_once_until_refreshed(plugins: Plugins) -> None:
    plugins.install("first", {"one": PLUGIN_MODULE}, {"one": "{p}_one:PluginWidget"})
    registry = widget_registry(plugins)
    assert registry.find("late") is None
    plugins.install("second", {"late": PLUGIN_MODULE}, {"late": "{p}_late:PluginWidget"})
    assert registry.find("late") is None  # the group was listed on the first miss
    registry.refresh_entry_points()
    assert registry.get("late") is plugins.module("late").PluginWidget
    assert registry.names() == ["late", "one"]


def test_concurrent_lookups_load_an_entry_point_once(plugins: Plugins) -> None:
    plugins.install(
        "slow", {"slow": "import time\ntime.sleep(0.05)\n" + PLUGIN_MODULE}, {"slow": "{p}_slow:PluginWidget"}
    )
    checked: list[str] = []
    registry = widget_registry(plugins, checked=checked)
    results: list[type[Any]] = []
    barrier = threading.Barrier(8)

    def lookup() -> None:
        barrier.wait()
        results.append(registry.get("slow"))

    threads = [threading.Thread(target=lookup) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert checked == ["slow"]


def test_a_plugin_may_register_while_it_is_imported(plugins: Plugins, monkeypatch: pytest.MonkeyPatch) -> None:
    host = type(sys)(f"{plugins.prefix}_host")
    monkeypatch.setitem(sys.modules, host.__name__, host)
    plugins.install(
        "self",
        {"self": PLUGIN_MODULE + "\nfrom {p}_host import REGISTRY\nREGISTRY.register('self', SharedWidget)\n"},
        {"self": "{p}_self:PluginWidget"},
    )
    registry = widget_registry(plugins)
    monkeypatch.setattr(host, "REGISTRY", registry, raising=False)
    assert registry.get("self") is plugins.module("self").SharedWidget  # its own registration wins


# ---------------------------------------------------------------------------------------------------
# broken plug-ins


def test_a_broken_entry_point_is_logged_not_raised_and_breaks_only_its_name(
    plugins: Plugins, caplog: pytest.LogCaptureFixture
) -> None:
    plugins.install(
        "mixed",
        {
            "good": PLUGIN_MODULE,
            "broken": "from {p}_base import LOADS\nLOADS.append('broken')\nraise ImportError('needs libfoo')\n",
        },
        {
            "good": "{p}_good:PluginWidget",
            "broken": "{p}_broken:Anything",
            "wrong": "{p}_good:LOADS",
        },
    )
    registry = widget_registry(plugins)
    with caplog.at_level(logging.WARNING, logger="zarrlayered.test_extensions"):
        snapshot = registry.snapshot()
    assert sorted(snapshot) == ["good"]
    messages = sorted(record.getMessage() for record in caplog.records)
    assert len(messages) == 2
    assert messages[0].startswith("widget 'broken' cannot be loaded: needs libfoo (broken = ")
    assert messages[1].startswith("widget 'wrong' cannot be loaded: widget 'wrong' must be a Widget subclass, got [")
    assert all(record.levelno == logging.WARNING for record in caplog.records)

    with pytest.raises(MetadataValidationError, match=r"^widget 'broken' cannot be loaded: needs libfoo$"):
        registry.get("broken")
    with pytest.raises(MetadataValidationError, match="must be a Widget subclass"):
        registry.find("wrong")
    assert plugins.module("base").LOADS.count("broken") == 1  # remembered, not imported again
    assert registry.names() == ["good"]
    assert registry.get("good").__name__ == "PluginWidget"

    registry.refresh_entry_points()  # forgets what broke: the next lookup tries again
    with pytest.raises(MetadataValidationError, match="needs libfoo"):
        registry.get("broken")
    assert plugins.module("base").LOADS.count("broken") == 2


def test_a_broken_entry_point_on_first_lookup_is_logged_once(
    plugins: Plugins, caplog: pytest.LogCaptureFixture
) -> None:
    plugins.install("broken", {"broken": "raise RuntimeError('boom')\n"}, {"broken": "{p}_broken:X"})
    registry = widget_registry(plugins)
    with caplog.at_level(logging.WARNING, logger="zarrlayered.test_extensions"):
        for _ in range(3):
            with pytest.raises(MetadataValidationError, match="widget 'broken' cannot be loaded: boom"):
                registry.get("broken")
    assert [record.levelno for record in caplog.records] == [logging.WARNING]


# ---------------------------------------------------------------------------------------------------
# unknown names, refused registrations


def test_unknown_names(plugins: Plugins) -> None:
    base = plugins.module("base")
    plugins.install("one", {"one": PLUGIN_MODULE}, {"one": "{p}_one:PluginWidget"})
    plain = widget_registry(plugins)
    assert plain.find("nope") is None
    with pytest.raises(MetadataValidationError, match=r"^unknown widget 'nope'$"):
        plain.get("nope")
    listing = widget_registry(
        plugins,
        builtins={"builtin": base.BuiltinWidget},
        unknown="unknown {kind} {name!r}; known: {known} (see {group!r})",
    )
    listing.register("runtime", base.RuntimeWidget)
    with pytest.raises(MetadataValidationError) as info:
        listing.get("nope")
    assert str(info.value) == f"unknown widget 'nope'; known: ['builtin', 'one', 'runtime'] (see {plugins.group!r})"
    assert not plugins.imported("one")  # naming the entry points loads none of them


def test_register_refuses_what_check_refuses(plugins: Plugins) -> None:
    registry = widget_registry(plugins)
    with pytest.raises(TypeError, match="widget 'x' must be a Widget subclass, got <class 'int'>"):
        registry.register("x", int)
    assert registry.find("x") is None


# ---------------------------------------------------------------------------------------------------
# undoing


def test_restoring_undoes_registrations_and_entry_point_state(plugins: Plugins) -> None:
    base = plugins.module("base")
    registry = widget_registry(plugins, builtins={"builtin": base.BuiltinWidget})
    registry.register("kept", base.RuntimeWidget)
    assert registry.find("late") is None
    with registry.restoring():
        registry.register("temporary", base.RuntimeWidget)
        registry.register("kept", base.BuiltinWidget)
        registry.register("builtin", base.RuntimeWidget)
        plugins.install("late", {"late": PLUGIN_MODULE}, {"late": "{p}_late:PluginWidget"})
        registry.refresh_entry_points()
        assert registry.get("late").__name__ == "PluginWidget"
        assert registry.get("builtin") is base.RuntimeWidget
    assert registry.find("temporary") is None
    assert registry.get("kept") is base.RuntimeWidget
    assert registry.get("builtin") is base.BuiltinWidget
    assert registry.find("late") is None  # the listing from before the block is back
    assert registry.names() == ["builtin", "kept"]


def test_restoring_restores_when_the_block_raises(plugins: Plugins) -> None:
    base = plugins.module("base")
    registry = widget_registry(plugins)
    with pytest.raises(KeyError), registry.restoring():
        registry.register("temporary", base.RuntimeWidget)
        raise KeyError("temporary")
    assert registry.find("temporary") is None


# ---------------------------------------------------------------------------------------------------
# the six registries are thin users of it


@dataclass(frozen=True)
class _Transformer(StorageTransformer):
    transformer_name = "zl_test.ext-transformer"


def _store_factory(url: str, mode: str | None, options: Mapping[str, Any] | None) -> MemoryStore:
    return MemoryStore()


@pytest.mark.parametrize(
    ("extension", "registry", "register", "lookup", "name", "obj", "builtin"),
    [
        (
            "codecs",
            codec_registry.CODEC_REGISTRY,
            codec_registry.register_codec,
            codec_registry.get_codec_class,
            "zl_test.ext-codec",
            BytesCodec,
            "bytes",
        ),
        (
            "data_types",
            dtype_registry.DATA_TYPE_REGISTRY,
            dtype_registry.register_data_type,
            dtype_registry.get_data_type_class,
            "zl_test.ext-dtype",
            Int8,
            "int8",
        ),
        (
            "chunk_grids",
            chunk_grids.CHUNK_GRID_REGISTRY,
            chunk_grids.register_chunk_grid,
            chunk_grids.get_chunk_grid_class,
            "zl_test.ext-grid",
            RegularChunkGrid,
            "regular",
        ),
        (
            "chunk_key_encodings",
            chunk_key_encodings.CHUNK_KEY_ENCODING_REGISTRY,
            chunk_key_encodings.register_chunk_key_encoding,
            chunk_key_encodings.get_chunk_key_encoding_class,
            "zl_test.ext-keys",
            V2ChunkKeyEncoding,
            "v2",
        ),
        (
            "storage_transformers",
            storage_transformers.STORAGE_TRANSFORMER_REGISTRY,
            storage_transformers.register_storage_transformer,
            storage_transformers.get_storage_transformer_class,
            "zl_test.ext-transformer",
            _Transformer,
            None,
        ),
        (
            "stores",
            store_registry.STORE_REGISTRY,
            store_registry.register_store,
            store_registry.get_store_factory,
            "zltestext",
            _store_factory,
            None,
        ),
    ],
    ids=["codecs", "data_types", "chunk_grids", "chunk_key_encodings", "storage_transformers", "stores"],
)
def test_each_registry_function_goes_through_its_extension_registry(
    extension: str,
    registry: ExtensionRegistry[Any],
    register: Callable[[str, Any], None],
    lookup: Callable[[str], Any],
    name: str,
    obj: Any,
    builtin: str | None,
) -> None:
    assert registry.group == ENTRY_POINT_GROUPS[extension]
    assert registry.find(name) is None
    with registry.restoring():
        register(name, obj)
        assert lookup(name) is obj
        assert registry.get(name) is obj
        assert name in registry.names()
    assert registry.find(name) is None
    if builtin is not None:
        assert registry.get(builtin) is lookup(builtin)

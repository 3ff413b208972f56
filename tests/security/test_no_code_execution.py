"""Nothing in the package runs code taken from data.

- The numcodecs Pickle codec (the one codec whose decoding runs code from the chunk) is refused by
  default wherever it can appear: a V2 compressor, a V2 filter, a V3 ``numcodecs.pickle`` codec, inside
  consolidated metadata, and through the h5py front end. A real malicious payload (its unpickling creates
  a file) proves the refusal: the file never appears unless ``codecs.allow_pickle`` is set.
- An AST walk of the package's source finds no eval/exec/compile/pickle/marshal/yaml/subprocess call
  but the one gated Pickle decode.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered import h5py_compat
from zarrlayered.errors import UnsafeCodecError
from zarrlayered.stores.memory import MemoryStore

PACKAGE = Path(zarrlayered.__file__).parent


class Payload:
    """Unpickling this opens (creates) ``marker`` for writing: code from the data running."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (str(self.marker), "w")


def _v2(filters: Any, compressor: Any, dtype: str = "|O") -> bytes:
    doc = {
        "zarr_format": 2,
        "shape": [1],
        "chunks": [1],
        "dtype": dtype,
        "fill_value": None,
        "order": "C",
        "filters": filters,
        "compressor": compressor,
        "dimension_separator": ".",
    }
    return json.dumps(doc).encode()


def _v3(codecs: list[Any]) -> bytes:
    doc = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [1],
        "data_type": "string",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": "",
        "codecs": codecs,
        "attributes": {},
    }
    return json.dumps(doc).encode()


def _routes(chunk: bytes) -> dict[str, dict[str, bytes]]:
    v2_filter = _v2([{"id": "pickle", "protocol": 5}], None)
    v2_compressor = _v2([{"id": "vlen-utf8"}], {"id": "pickle", "protocol": 5})
    v3 = _v3([{"name": "numcodecs.pickle", "configuration": {"protocol": 5}}])
    consolidated = {
        "zarr_consolidated_format": 1,
        "metadata": {".zgroup": {"zarr_format": 2}, "a/.zarray": json.loads(v2_filter)},
    }
    return {
        "v2-filter": {"a/.zarray": v2_filter, "a/0": chunk},
        "v2-compressor": {"a/.zarray": v2_compressor, "a/0": chunk},
        "v3-numcodecs.pickle": {"a/zarr.json": v3, "a/c/0": chunk},
        "v2-consolidated": {
            ".zgroup": b'{"zarr_format": 2}',
            ".zmetadata": json.dumps(consolidated).encode(),
            "a/.zarray": _v2(None, None, "<i8"),  # what is on disk is harmless; the consolidated copy is not
            "a/0": chunk,
        },
    }


@pytest.mark.parametrize("route", ["v2-filter", "v2-compressor", "v3-numcodecs.pickle", "v2-consolidated"])
def test_a_pickle_payload_never_runs_by_default(tmp_path: Path, route: str) -> None:
    marker = tmp_path / "pwned"
    documents = _routes(pickle.dumps(Payload(marker), protocol=5))[route]
    store = MemoryStore(dict(documents))
    assert zarrlayered.config.get("codecs.allow_pickle") is False
    with pytest.raises(UnsafeCodecError, match="allow_pickle"):
        if route == "v2-consolidated":
            group = zarrlayered.open_group(store, mode="r")
            group["a"][...]
        else:
            zarrlayered.open_array(store, path="a", mode="r")[...]
    with pytest.raises(UnsafeCodecError):
        zarrlayered.open(store, path="" if route == "v2-consolidated" else "a", mode="r")
    assert not marker.exists(), "unpickling ran code from the data"


def test_a_pickle_payload_never_runs_through_the_h5py_front_end(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    root = tmp_path / "file.zarr"
    zarrlayered.create_group(str(root))
    (root / "a").mkdir()
    (root / "a" / "zarr.json").write_bytes(_v3([{"name": "numcodecs.pickle", "configuration": {"protocol": 5}}]))
    (root / "a" / "c").mkdir()
    (root / "a" / "c" / "0").write_bytes(pickle.dumps(Payload(marker), protocol=5))
    with h5py_compat.File(str(root), "r") as f, pytest.raises(UnsafeCodecError):
        f["a"][...]
    assert not marker.exists()


def test_the_payload_is_live_when_pickle_is_allowed(tmp_path: Path) -> None:
    """With the opt-in, the same payload does run: the refusal above is what protects."""
    marker = tmp_path / "pwned"
    documents = _routes(pickle.dumps(Payload(marker), protocol=5))["v2-filter"]
    with zarrlayered.config.set({"codecs.allow_pickle": True}):
        try:
            zarrlayered.open_array(MemoryStore(dict(documents)), path="a", mode="r")[...]
        except Exception:  # the unpickled file object is not a valid chunk; what matters is that it ran
            pass
    assert marker.exists()


def test_pickle_stays_allowed_only_inside_the_opt_in() -> None:
    with zarrlayered.config.set({"codecs.allow_pickle": True}):
        store = MemoryStore()
        array = zarrlayered.create_array(
            store, shape=(2,), dtype=object, zarr_format=2, filters=[{"id": "pickle"}], compressors=None
        )
        array[:] = np.array([{"a": 1}, [2]], dtype=object)
        assert array[:].tolist() == [{"a": 1}, [2]]
    with pytest.raises(UnsafeCodecError):
        zarrlayered.open_array(store, mode="r")[:]


# -- the source ------------------------------------------------------------------------------------

#: Calls of these names run code or load objects from data.
DANGEROUS_NAMES = {"eval", "exec", "compile", "__import__", "breakpoint"}
#: module -> attributes that run code or unpickle (any attribute when the set is empty).
DANGEROUS_MODULES: dict[str, set[str]] = {
    "pickle": {"load", "loads", "Unpickler"},
    "marshal": set(),
    "dill": set(),
    "cloudpickle": set(),
    "yaml": {"load", "unsafe_load", "full_load", "load_all"},
    "subprocess": set(),
    "os": {"system", "popen", "execv", "execve", "execvp", "spawnv"},
    "shelve": {"open"},
    "code": set(),
    "runpy": set(),
}

#: Each allowed call, with why it is safe: (file relative to the package, dotted call).
ALLOWED = {
    # the numcodecs Pickle decode, reached only after check_codec_allowed() (codecs.allow_pickle opt-in)
    ("codecs/numcodecs_adapter.py", "pickle.loads"),
    # the demo creates a new shelf (flag "n") in its own work directory: it only unpickles what it wrote
    ("demo.py", "shelve.open"),
}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _dangerous_calls(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases: dict[str, str] = {}  # local name -> "module" or "module.attr", from the imports
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: set[tuple[str, str]] = set()
    relative = str(path.relative_to(PACKAGE))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is None:
            continue
        head, _, rest = name.partition(".")
        resolved = f"{aliases[head]}.{rest}" if head in aliases and rest else aliases.get(head, name)
        module, _, attr = resolved.partition(".")
        if resolved in DANGEROUS_NAMES and head not in aliases:
            found.add((relative, resolved))
        elif module in DANGEROUS_MODULES:
            attrs = DANGEROUS_MODULES[module]
            if not attrs or attr.split(".")[0] in attrs:
                found.add((relative, resolved))
    return found


def test_the_package_source_calls_nothing_that_runs_code_from_data() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 50
    found: set[tuple[str, str]] = set()
    for path in sources:
        found |= _dangerous_calls(path)
    assert found == ALLOWED, f"unexpected: {sorted(found - ALLOWED)}; gone from the allow list: {ALLOWED - found}"


def test_the_source_walk_sees_what_it_looks_for(tmp_path: Path) -> None:
    """The walk is not vacuous: each kind of call it forbids is found in a sample."""
    sample = PACKAGE / "_security_sample_does_not_exist.py"
    code = (
        "import pickle as p\nfrom marshal import loads\nimport subprocess\n"
        "eval('1')\nexec('x=1')\np.loads(b'')\nloads(b'')\nsubprocess.run(['true'])\n"
    )
    path = tmp_path / "sample.py"
    path.write_text(code)
    tree_calls = _dangerous_calls_in(path, sample)
    assert tree_calls == {"eval", "exec", "pickle.loads", "marshal.loads", "subprocess.run"}


def _dangerous_calls_in(path: Path, pretend: Path) -> set[str]:
    pretend_path = PACKAGE / pretend.name
    # _dangerous_calls names files relative to the package; read the sample through a stand-in path
    original = Path.read_text

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        return original(path if self == pretend_path else self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "read_text", read_text)
        return {call for _, call in _dangerous_calls(pretend_path)}

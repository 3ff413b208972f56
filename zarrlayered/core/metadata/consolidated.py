"""Group metadata of both formats and consolidated metadata.

A Zarr V3 group is one ``zarr.json``; its consolidated metadata lives inline under
``"consolidated_metadata"``. A Zarr V2 group is ``.zgroup`` plus ``.zattrs``; its consolidated metadata is
the ``.zmetadata`` document. Both are written byte for byte as zarr-python 3 writes them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Final, Literal, Self, TypeAlias

from zarrlayered.core.metadata.common import (
    ZARR_JSON,
    ZATTRS_JSON,
    ZGROUP_JSON,
    ZMETADATA_JSON,
    dumps_json,
    parse_attributes,
)
from zarrlayered.core.metadata.v2 import ArrayV2Metadata
from zarrlayered.core.metadata.v3 import ArrayV3Metadata, parse_extra_fields
from zarrlayered.errors import MetadataValidationError

__all__ = ["ConsolidatedMetadata", "GroupMetadata", "NodeMetadata"]


_GROUP_V3_KEYS: Final = frozenset({"zarr_format", "node_type", "attributes", "consolidated_metadata"})


def _sort_key(path: str) -> tuple[int, str]:
    # zarr-python 3 orders consolidated entries by depth, then by case-folded name
    return path.count("/"), unicodedata.normalize("NFKC", path).casefold()


def _check_path(path: object, where: str) -> str:
    if (
        not isinstance(path, str)
        or not path
        or path.startswith("/")
        or path.endswith("/")
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise MetadataValidationError(f"{where} has an invalid member path {path!r}")
    return path


@dataclass(frozen=True, eq=False)
class ConsolidatedMetadata:
    """The metadata of every node below a group, keyed by path relative to the group (``"a"``, ``"a/b"``).

    The mapping is flat: a subgroup entry carries no members of its own (they are listed under their full
    path), only a marker of whether it was consolidated itself. Nested input (a subgroup entry whose own
    consolidated metadata lists members) is flattened.

    Parameters
    ----------
    metadata
        Path -> :class:`ArrayV2Metadata`, :class:`ArrayV3Metadata` or :class:`GroupMetadata`.
    kind
        Always ``"inline"``.
    must_understand
        Always False.
    """

    metadata: dict[str, NodeMetadata] = field(default_factory=dict)
    kind: Literal["inline"] = "inline"
    must_understand: Literal[False] = False

    def __post_init__(self) -> None:
        if self.kind != "inline":
            raise MetadataValidationError(f"consolidated_metadata field 'kind' must be 'inline', got {self.kind!r}")
        if self.must_understand is not False:
            raise MetadataValidationError(
                f"consolidated_metadata field 'must_understand' must be false, got {self.must_understand!r}"
            )
        flat: dict[str, NodeMetadata] = {}
        for path, node in self.metadata.items():
            _check_path(path, "consolidated_metadata")
            if not isinstance(node, ArrayV2Metadata | ArrayV3Metadata | GroupMetadata):
                raise MetadataValidationError(f"consolidated_metadata entry {path!r} is not node metadata: {node!r}")
            if isinstance(node, GroupMetadata) and node.consolidated_metadata is not None:
                for sub_path, sub_node in node.consolidated_metadata.metadata.items():
                    flat[f"{path}/{sub_path}"] = sub_node
                flat[path] = replace(node, consolidated_metadata=ConsolidatedMetadata())
            else:
                flat[path] = node
        object.__setattr__(self, "metadata", flat)

    def get(self, path: str) -> NodeMetadata | None:
        """The metadata of the node at ``path`` (relative to the group), or None."""
        return self.metadata.get(path.strip("/"))

    def children(self, path: str = "") -> dict[str, NodeMetadata]:
        """The immediate members of the group at ``path`` ("" for this group), keyed by name."""
        prefix = path.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        return {
            key[len(prefix) :]: node
            for key, node in self.metadata.items()
            if key.startswith(prefix) and "/" not in key[len(prefix) :]
        }

    def subtree(self, path: str) -> ConsolidatedMetadata:
        """The consolidated metadata of the subgroup at ``path``: its descendants, paths relative to it."""
        prefix = path.strip("/") + "/"
        return ConsolidatedMetadata(
            metadata={key[len(prefix) :]: node for key, node in self.metadata.items() if key.startswith(prefix)}
        )

    def sorted_items(self) -> list[tuple[str, NodeMetadata]]:
        """The entries in zarr-python 3's order: by depth, then case-folded name."""
        return sorted(self.metadata.items(), key=lambda item: _sort_key(item[0]))

    def to_dict(self) -> dict[str, Any]:
        """The inline V3 form ``{"kind": "inline", "must_understand": false, "metadata": {...}}``."""
        return {
            "kind": self.kind,
            "must_understand": self.must_understand,
            "metadata": {path: _entry_dict(node) for path, node in self.sorted_items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the inline V3 form (also the form zarr-python 3 keeps in memory for V2)."""
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"consolidated_metadata must be an object, got {data!r}")
        if data.get("kind") != "inline":
            raise MetadataValidationError(
                f"consolidated_metadata field 'kind' must be 'inline', got {data.get('kind')!r}"
            )
        if data.get("must_understand", False) is not False:
            raise MetadataValidationError(
                f"consolidated_metadata field 'must_understand' must be false, got {data.get('must_understand')!r}"
            )
        raw = data.get("metadata")
        if not isinstance(raw, Mapping):
            raise MetadataValidationError(f"consolidated_metadata field 'metadata' must be an object, got {raw!r}")
        out: dict[str, NodeMetadata] = {}
        for path, doc in raw.items():
            _check_path(path, "consolidated_metadata")
            if not isinstance(doc, Mapping):
                raise MetadataValidationError(f"consolidated_metadata entry {path!r} must be an object, got {doc!r}")
            try:
                out[path] = _parse_entry(doc)
            except MetadataValidationError as exc:
                raise MetadataValidationError(f"consolidated_metadata entry {path!r}: {exc}") from None
        return cls(metadata=out)

    def to_v2_document(self, root_attributes: Mapping[str, Any]) -> dict[str, Any]:
        """The ``.zmetadata`` document of a V2 group with attributes ``root_attributes``."""
        docs: dict[str, Any] = {ZGROUP_JSON: {"zarr_format": 2}, ZATTRS_JSON: dict(root_attributes)}
        for path, node in self.sorted_items():
            if node.zarr_format != 2:
                raise MetadataValidationError(f"a Zarr V2 .zmetadata cannot hold the Zarr V3 node {path!r}")
            docs[f"{path}/{ZATTRS_JSON}"] = node.attributes
            if isinstance(node, ArrayV2Metadata):
                docs[f"{path}/.zarray"] = node.to_dict()
            else:  # zarr-python 3 writes this entry for every subgroup
                docs[f"{path}/{ZGROUP_JSON}"] = {
                    "zarr_format": 2,
                    "consolidated_metadata": {"metadata": {}, "must_understand": False, "kind": "inline"},
                }
        return {"metadata": docs, "zarr_consolidated_format": 1}

    @classmethod
    def from_v2_document(cls, data: Mapping[str, Any]) -> Self:
        """Parse a ``.zmetadata`` document (the group's own ``.zgroup``/``.zattrs`` entries are skipped)."""
        where = ZMETADATA_JSON
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"{where} must hold a JSON object, got {data!r}")
        fmt = data.get("zarr_consolidated_format")
        if fmt != 1 or isinstance(fmt, bool):
            raise MetadataValidationError(f"{where} field 'zarr_consolidated_format' must be 1, got {fmt!r}")
        raw = data.get("metadata")
        if not isinstance(raw, Mapping):
            raise MetadataValidationError(f"{where} field 'metadata' must be an object, got {raw!r}")
        grouped: dict[str, dict[str, Any]] = {}
        for key, doc in raw.items():
            if not isinstance(key, str) or "/" not in key:
                continue  # the group's own documents
            path, _, name = key.rpartition("/")
            if name not in (".zarray", ZGROUP_JSON, ZATTRS_JSON):
                raise MetadataValidationError(f"{where} has an entry {key!r} that is not a V2 metadata document")
            _check_path(path, where)
            if not isinstance(doc, Mapping):
                raise MetadataValidationError(f"{where} entry {key!r} must be a JSON object, got {doc!r}")
            grouped.setdefault(path, {})[name] = doc
        out: dict[str, NodeMetadata] = {}
        for path, docs in grouped.items():
            attrs = docs.get(ZATTRS_JSON)
            try:
                if ".zarray" in docs:
                    out[path] = ArrayV2Metadata.from_dict(docs[".zarray"], attributes=attrs)
                elif ZGROUP_JSON in docs:
                    out[path] = GroupMetadata.from_dict(docs[ZGROUP_JSON], attributes=attrs)
                else:
                    raise MetadataValidationError("has .zattrs but neither .zarray nor .zgroup")
            except MetadataValidationError as exc:
                raise MetadataValidationError(f"{where} entry {path!r}: {exc}") from None
        return cls(metadata=out)


def _entry_dict(node: NodeMetadata) -> dict[str, Any]:
    """A node as zarr-python 3 lists it in inline consolidated metadata (V2 nodes with their attributes)."""
    if isinstance(node, ArrayV2Metadata):
        return {**node.to_dict(), "attributes": node.attributes}
    if isinstance(node, GroupMetadata) and node.zarr_format == 2:
        return {"attributes": node.attributes, "zarr_format": 2, "node_type": "group"}
    return node.to_dict()


def _parse_entry(doc: Mapping[str, Any]) -> NodeMetadata:
    fmt = doc.get("zarr_format")
    if fmt == 3 and not isinstance(fmt, bool):
        if doc.get("node_type") == "array":
            return ArrayV3Metadata.from_dict(doc)
        return GroupMetadata.from_dict(doc)
    if fmt == 2 and not isinstance(fmt, bool):
        body = {k: v for k, v in doc.items() if k != "attributes"}
        if "shape" in doc:
            return ArrayV2Metadata.from_dict(body, attributes=doc.get("attributes"))
        body.pop("node_type", None)
        return GroupMetadata.from_dict(body, attributes=doc.get("attributes"))
    raise MetadataValidationError(f"field 'zarr_format' must be 2 or 3, got {fmt!r}")


@dataclass(frozen=True, eq=False)
class GroupMetadata:
    """The metadata of a group: ``zarr.json`` (V3) or ``.zgroup`` + ``.zattrs`` (V2).

    Parameters
    ----------
    attributes
        The user attributes.
    zarr_format
        2 or 3.
    consolidated_metadata
        The metadata of every node below, or None.
    extra_fields
        V3 extension fields (objects with ``"must_understand": false``), written back unchanged.
    """

    attributes: dict[str, Any] = field(default_factory=dict)
    zarr_format: Literal[2, 3] = 3
    consolidated_metadata: ConsolidatedMetadata | None = None
    extra_fields: dict[str, Any] = field(default_factory=dict)

    node_type: ClassVar[Literal["group"]] = "group"

    def __post_init__(self) -> None:
        if self.zarr_format not in (2, 3) or isinstance(self.zarr_format, bool):
            raise MetadataValidationError(f"group field 'zarr_format' must be 2 or 3, got {self.zarr_format!r}")
        doc = ZARR_JSON if self.zarr_format == 3 else ZATTRS_JSON
        object.__setattr__(self, "attributes", parse_attributes(self.attributes, doc))
        if self.consolidated_metadata is not None and not isinstance(self.consolidated_metadata, ConsolidatedMetadata):
            raise MetadataValidationError(
                f"group consolidated_metadata must be ConsolidatedMetadata or None, got {self.consolidated_metadata!r}"
            )
        if self.zarr_format == 2 and self.extra_fields:
            raise MetadataValidationError("Zarr V2 groups have no extension fields")
        object.__setattr__(self, "extra_fields", parse_extra_fields(self.extra_fields, _GROUP_V3_KEYS))

    def update_attributes(self, attributes: Mapping[str, Any]) -> Self:
        """A copy with new attributes (they replace the old ones)."""
        return replace(self, attributes=dict(attributes))

    def to_dict(self) -> dict[str, Any]:
        """The ``zarr.json`` document (V3), or the ``.zgroup`` document (V2)."""
        if self.zarr_format == 2:
            return {"zarr_format": 2}
        out: dict[str, Any] = {"attributes": self.attributes, "zarr_format": 3}
        if self.consolidated_metadata is not None:
            out["consolidated_metadata"] = self.consolidated_metadata.to_dict()
        out["node_type"] = "group"
        out.update(self.extra_fields)
        return out

    def to_json_bytes(self) -> dict[str, bytes]:
        """The documents to store: ``zarr.json``; or ``.zgroup``, ``.zattrs`` (and ``.zmetadata``)."""
        if self.zarr_format == 3:
            return {ZARR_JSON: dumps_json(self.to_dict())}
        out = {ZGROUP_JSON: dumps_json({"zarr_format": 2}), ZATTRS_JSON: dumps_json(self.attributes)}
        if self.consolidated_metadata is not None:
            out[ZMETADATA_JSON] = dumps_json(self.consolidated_metadata.to_v2_document(self.attributes), indent=None)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], attributes: Mapping[str, Any] | None = None) -> Self:
        """Parse a V3 group ``zarr.json``, or a V2 ``.zgroup`` (with the ``.zattrs`` object as ``attributes``)."""
        if not isinstance(data, Mapping):
            raise MetadataValidationError(f"group metadata must be a JSON object, got {data!r}")
        fmt = data.get("zarr_format")
        if fmt == 2 and not isinstance(fmt, bool):
            # zarr 2 let .zgroup hold other keys; they carry no meaning
            return cls(attributes=parse_attributes(attributes, ZATTRS_JSON), zarr_format=2)
        if fmt != 3 or isinstance(fmt, bool):
            raise MetadataValidationError(f"group field 'zarr_format' must be 2 or 3, got {fmt!r}")
        if data.get("node_type") != "group":
            raise MetadataValidationError(
                f"{ZARR_JSON} field 'node_type' must be 'group', got {data.get('node_type')!r}"
            )
        attrs = data.get("attributes", {})
        if not isinstance(attrs, Mapping):
            raise MetadataValidationError(f"{ZARR_JSON} field 'attributes' must be an object, got {attrs!r}")
        raw_consolidated = data.get("consolidated_metadata")
        consolidated = None if raw_consolidated is None else ConsolidatedMetadata.from_dict(raw_consolidated)
        extra = {key: value for key, value in data.items() if key not in _GROUP_V3_KEYS}
        return cls(
            attributes=dict(attrs),
            zarr_format=3,
            consolidated_metadata=consolidated,
            extra_fields=parse_extra_fields(extra, _GROUP_V3_KEYS),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GroupMetadata):
            return NotImplemented
        return (
            self.zarr_format == other.zarr_format
            and self.to_json_bytes() == other.to_json_bytes()
            and (self.consolidated_metadata is None) == (other.consolidated_metadata is None)
        )

    __hash__ = None  # type: ignore[assignment]


#: The metadata of any node: an array of either format, or a group.
NodeMetadata: TypeAlias = ArrayV2Metadata | ArrayV3Metadata | GroupMetadata

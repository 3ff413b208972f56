"""Array and group metadata of Zarr V2 and V3, and the detection of which format a node uses.

:func:`parse_node_metadata` takes the documents found at a node (``zarr.json``, ``.zarray``, ``.zgroup``,
``.zattrs``, optionally ``.zmetadata``) and returns the matching metadata object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from zarrlayered.core.metadata.common import (
    ZARR_JSON,
    ZARRAY_JSON,
    ZATTRS_JSON,
    ZGROUP_JSON,
    ZMETADATA_JSON,
    ArrayMetadata,
    loads_json,
)
from zarrlayered.core.metadata.consolidated import ConsolidatedMetadata, GroupMetadata, NodeMetadata
from zarrlayered.core.metadata.v2 import ArrayV2Metadata
from zarrlayered.core.metadata.v3 import ArrayV3Metadata
from zarrlayered.errors import MetadataValidationError, NodeNotFoundError, ZarrlayeredError

__all__ = [
    "METADATA_KEYS",
    "ZARRAY_JSON",
    "ZARR_JSON",
    "ZATTRS_JSON",
    "ZGROUP_JSON",
    "ZMETADATA_JSON",
    "ArrayMetadata",
    "ArrayV2Metadata",
    "ArrayV3Metadata",
    "ConsolidatedMetadata",
    "GroupMetadata",
    "NodeMetadata",
    "parse_array_metadata",
    "parse_group_metadata",
    "parse_node_metadata",
]

#: The documents that describe a node, per format.
METADATA_KEYS: Final[dict[int, tuple[str, ...]]] = {
    3: (ZARR_JSON,),
    2: (ZARRAY_JSON, ZGROUP_JSON, ZATTRS_JSON),
}

Document = bytes | bytearray | memoryview | Mapping[str, Any] | None


def _load(documents: Mapping[str, Document], name: str) -> dict[str, Any] | None:
    raw = documents.get(name)
    return None if raw is None else loads_json(raw, name)


def parse_node_metadata(
    documents: Mapping[str, Document],
    *,
    zarr_format: Literal[2, 3] | None = None,
    path: str = "",
) -> NodeMetadata:
    """The metadata of one node, from the documents found there (missing ones absent or None).

    ``zarr.json`` wins over the V2 documents; a V2 group with ``.zmetadata`` gets its consolidated metadata.

    Parameters
    ----------
    documents
        File name -> bytes (or an already parsed JSON object), e.g. ``{"zarr.json": b"..."}`` or
        ``{".zarray": b"...", ".zattrs": b"..."}``.
    zarr_format
        Only look for documents of this format.
    path
        The node's path, for error messages.

    Raises
    ------
    NodeNotFoundError
        If no metadata document exists.
    MetadataValidationError
        If a document is not valid, naming it, the field and the value.
    """
    if zarr_format not in (None, 2, 3):
        raise MetadataValidationError(f"zarr_format must be 2, 3 or None, got {zarr_format!r}")
    try:
        return _parse_node(documents, zarr_format, path)
    except _Invalid as exc:
        key = f"{path}/{exc.name}" if path else exc.name
        raise MetadataValidationError(f"invalid metadata at {key!r}: {exc.error}") from None


class _Invalid(Exception):
    """A document failed to parse; carries its file name so the caller can name the store key."""

    def __init__(self, name: str, error: MetadataValidationError) -> None:
        super().__init__(name, error)
        self.name = name
        self.error = error


def _parse_node(documents: Mapping[str, Document], zarr_format: Literal[2, 3] | None, path: str) -> NodeMetadata:
    name = ZARR_JSON
    try:
        if zarr_format in (None, 3):
            zarr_json = _load(documents, ZARR_JSON)
            if zarr_json is not None:
                node_type = zarr_json.get("node_type")
                if node_type == "array":
                    return ArrayV3Metadata.from_dict(zarr_json)
                if node_type == "group":
                    return GroupMetadata.from_dict(zarr_json)
                raise MetadataValidationError(
                    f"{ZARR_JSON} field 'node_type' must be 'array' or 'group', got {node_type!r}"
                )
        if zarr_format in (None, 2):
            name = ZATTRS_JSON
            zattrs = _load(documents, ZATTRS_JSON)
            name = ZARRAY_JSON
            zarray = _load(documents, ZARRAY_JSON)
            if zarray is not None:
                return ArrayV2Metadata.from_dict(zarray, attributes=zattrs)
            name = ZGROUP_JSON
            zgroup = _load(documents, ZGROUP_JSON)
            if zgroup is not None:
                group = GroupMetadata.from_dict(zgroup, attributes=zattrs)
                if group.zarr_format != 2:
                    raise MetadataValidationError(
                        f"{ZGROUP_JSON} field 'zarr_format' must be 2, got {zgroup.get('zarr_format')!r}"
                    )
                name = ZMETADATA_JSON
                zmetadata = _load(documents, ZMETADATA_JSON)
                if zmetadata is not None:
                    return GroupMetadata(
                        attributes=group.attributes,
                        zarr_format=2,
                        consolidated_metadata=ConsolidatedMetadata.from_v2_document(zmetadata),
                    )
                return group
    except MetadataValidationError as exc:
        raise _Invalid(name, exc) from None
    except ZarrlayeredError:  # e.g. UnsafeCodecError keeps its class
        raise
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as exc:
        # a parser let through a built-in error on a malformed document: still a MetadataValidationError
        raise _Invalid(name, MetadataValidationError(f"{name} is malformed: {type(exc).__name__}: {exc}")) from None
    wanted = ", ".join(METADATA_KEYS[zarr_format] if zarr_format else (ZARR_JSON, ZARRAY_JSON, ZGROUP_JSON))
    raise NodeNotFoundError(f"no Zarr array or group at {path!r}: none of {wanted} exists")


def parse_array_metadata(
    documents: Mapping[str, Document], *, zarr_format: Literal[2, 3] | None = None, path: str = ""
) -> ArrayV2Metadata | ArrayV3Metadata:
    """Like :func:`parse_node_metadata`, for an array; NodeNotFoundError if the node is a group or missing."""
    node = parse_node_metadata(documents, zarr_format=zarr_format, path=path)
    if isinstance(node, GroupMetadata):
        raise NodeNotFoundError(f"no array at {path!r}: a group is there")
    return node


def parse_group_metadata(
    documents: Mapping[str, Document], *, zarr_format: Literal[2, 3] | None = None, path: str = ""
) -> GroupMetadata:
    """Like :func:`parse_node_metadata`, for a group; NodeNotFoundError if the node is an array or missing."""
    node = parse_node_metadata(documents, zarr_format=zarr_format, path=path)
    if not isinstance(node, GroupMetadata):
        raise NodeNotFoundError(f"no group at {path!r}: an array is there")
    return node

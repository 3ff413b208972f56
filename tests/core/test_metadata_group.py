"""Group metadata, consolidated metadata and the V2/V3 auto-detection of parse_node_metadata."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.dtypes import Int8
from zarrlayered.core.metadata import (
    ArrayV2Metadata,
    ArrayV3Metadata,
    ConsolidatedMetadata,
    GroupMetadata,
    parse_array_metadata,
    parse_group_metadata,
    parse_node_metadata,
)
from zarrlayered.errors import MetadataValidationError, NodeNotFoundError

V3_ARRAY = ArrayV3Metadata(shape=(2,), data_type=Int8(), chunk_grid=RegularChunkGrid(chunk_shape=(2,)))
V2_ARRAY = ArrayV2Metadata(shape=(2,), chunks=(2,), dtype=np.dtype("i1"), attributes={"k": "v"})


def test_detection_prefers_zarr_json() -> None:
    documents: dict[str, Any] = {
        **V3_ARRAY.to_json_bytes(),
        **GroupMetadata(zarr_format=2).to_json_bytes(),
    }
    assert parse_node_metadata(documents) == V3_ARRAY
    assert parse_node_metadata(documents, zarr_format=2) == GroupMetadata(zarr_format=2)


def test_detection_v2_array_over_group() -> None:
    documents = {**GroupMetadata(zarr_format=2).to_json_bytes(), **V2_ARRAY.to_json_bytes()}
    assert parse_node_metadata(documents) == V2_ARRAY
    assert parse_array_metadata(documents).attributes == {"k": "v"}


def test_detection_accepts_parsed_documents_and_none() -> None:
    documents = {"zarr.json": None, ".zarray": V2_ARRAY.to_dict(), ".zattrs": {"k": "v"}, ".zgroup": None}
    assert parse_node_metadata(documents) == V2_ARRAY


def test_missing_node() -> None:
    with pytest.raises(NodeNotFoundError, match="no Zarr array or group at 'a/b'") as info:
        parse_node_metadata({"zarr.json": None, ".zattrs": b"{}"}, path="a/b")
    assert isinstance(info.value, KeyError)
    with pytest.raises(NodeNotFoundError, match=r"none of zarr\.json exists"):
        parse_node_metadata(GroupMetadata(zarr_format=2).to_json_bytes(), zarr_format=3)


def test_array_or_group_expected() -> None:
    with pytest.raises(NodeNotFoundError, match="no array at 'g': a group is there"):
        parse_array_metadata(GroupMetadata().to_json_bytes(), path="g")
    with pytest.raises(NodeNotFoundError, match="no group at 'a': an array is there"):
        parse_group_metadata(V3_ARRAY.to_json_bytes(), path="a")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"zarr_format": 3}, "zarr.json field 'node_type' must be 'array' or 'group', got None"),
        ({"zarr_format": 3, "node_type": "group", "attributes": []}, "zarr.json field 'attributes' must be an object"),
        ({"zarr_format": 4, "node_type": "group"}, "group field 'zarr_format' must be 2 or 3, got 4"),
        ({"zarr_format": 3, "node_type": "group", "color": "red"}, "zarr.json field 'color' is not understood"),
        (
            {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {"kind": "remote", "metadata": {}}},
            "consolidated_metadata field 'kind' must be 'inline', got 'remote'",
        ),
        (
            {
                "zarr_format": 3,
                "node_type": "group",
                "consolidated_metadata": {"kind": "inline", "metadata": {"../x": {}}},
            },
            "consolidated_metadata has an invalid member path '../x'",
        ),
        (
            {
                "zarr_format": 3,
                "node_type": "group",
                "consolidated_metadata": {
                    "kind": "inline",
                    "metadata": {"x": {"zarr_format": 3, "node_type": "array"}},
                },
            },
            "consolidated_metadata entry 'x': zarr.json is missing the required field(s)",
        ),
    ],
)
def test_group_errors(document: dict[str, Any], message: str) -> None:
    with pytest.raises(MetadataValidationError) as info:
        parse_node_metadata({"zarr.json": json.dumps(document).encode()})
    assert message in str(info.value)


def test_v2_group_documents() -> None:
    group = GroupMetadata(attributes={"a": [1]}, zarr_format=2)
    docs = group.to_json_bytes()
    assert docs == {".zgroup": b'{\n  "zarr_format": 2\n}', ".zattrs": b'{\n  "a": [\n    1\n  ]\n}'}
    assert group.to_dict() == {"zarr_format": 2}
    # zarr 2 let .zgroup carry other keys; they are ignored
    parsed = parse_node_metadata({".zgroup": b'{"zarr_format": 2, "extra": 1}', ".zattrs": docs[".zattrs"]})
    assert parsed == group
    with pytest.raises(MetadataValidationError, match=r"\.zgroup field 'zarr_format' must be 2, got 3"):
        parse_node_metadata({".zgroup": b'{"zarr_format": 3, "node_type": "group"}'})


def test_v3_group_extension_fields_round_trip() -> None:
    document = {
        "attributes": {"x": 1},
        "zarr_format": 3,
        "node_type": "group",
        "my.extension": {"must_understand": False, "value": [1, 2]},
    }
    group = parse_group_metadata({"zarr.json": json.dumps(document).encode()})
    assert group.extra_fields == {"my.extension": {"must_understand": False, "value": [1, 2]}}
    assert group.to_dict() == document
    assert group.update_attributes({"y": 2}).to_dict()["attributes"] == {"y": 2}


def test_nested_consolidated_input_is_flattened() -> None:
    inner = GroupMetadata(consolidated_metadata=ConsolidatedMetadata({"arr": V3_ARRAY}))
    outer = ConsolidatedMetadata({"sub": inner, "top": V3_ARRAY})
    assert sorted(outer.metadata) == ["sub", "sub/arr", "top"]
    sub = outer.get("sub")
    assert isinstance(sub, GroupMetadata)
    assert sub.consolidated_metadata is not None and sub.consolidated_metadata.metadata == {}
    assert outer.get("/sub/arr/") == V3_ARRAY
    assert outer.get("missing") is None
    assert list(outer.to_dict()["metadata"]) == ["sub", "top", "sub/arr"]


def test_consolidated_order_matches_zarr_python() -> None:
    """Depth first, then case-folded NFKC name; ties keep their order (zarr-python sorts the same way)."""
    from zarr.core.group import ConsolidatedMetadata as ZarrConsolidated
    from zarr.core.group import GroupMetadata as ZarrGroup

    names = ["b", "A", "a/z", "C", "a", "B/c", "\uff21x", "ax"]
    cm = ConsolidatedMetadata({name: GroupMetadata() for name in names})
    theirs = ZarrConsolidated(metadata={name: ZarrGroup() for name in names})  # type: ignore[misc]
    assert list(cm.to_dict()["metadata"]) == list(theirs.to_dict()["metadata"])  # type: ignore[arg-type]
    assert list(cm.to_dict()["metadata"])[:4] == ["A", "a", "\uff21x", "ax"]


def test_v2_zmetadata_errors() -> None:
    def parse(zmetadata: Any) -> Any:
        return parse_node_metadata({".zgroup": b'{"zarr_format": 2}', ".zmetadata": json.dumps(zmetadata).encode()})

    with pytest.raises(MetadataValidationError, match="'zarr_consolidated_format' must be 1, got 2"):
        parse({"metadata": {}, "zarr_consolidated_format": 2})
    with pytest.raises(MetadataValidationError, match=r"has \.zattrs but neither \.zarray nor \.zgroup"):
        parse({"metadata": {"x/.zattrs": {}}, "zarr_consolidated_format": 1})
    with pytest.raises(MetadataValidationError, match="'x/data' that is not a V2 metadata document"):
        parse({"metadata": {"x/data": {}}, "zarr_consolidated_format": 1})
    with pytest.raises(MetadataValidationError, match=r"\.zmetadata entry 'x': \.zarray field 'chunks'"):
        parse({"metadata": {"x/.zarray": {**V2_ARRAY.to_dict(), "chunks": [0]}}, "zarr_consolidated_format": 1})


def test_v2_consolidated_round_trip() -> None:
    group = GroupMetadata(
        attributes={"root": 1},
        zarr_format=2,
        consolidated_metadata=ConsolidatedMetadata({"arr": V2_ARRAY, "g": GroupMetadata({"q": 2}, 2)}),
    )
    docs = group.to_json_bytes()
    assert set(docs) == {".zgroup", ".zattrs", ".zmetadata"}
    zmeta = json.loads(docs[".zmetadata"])
    assert list(zmeta["metadata"]) == [".zgroup", ".zattrs", "arr/.zattrs", "arr/.zarray", "g/.zattrs", "g/.zgroup"]
    parsed = parse_group_metadata(docs)
    assert parsed == group
    assert parsed.consolidated_metadata is not None
    assert parsed.consolidated_metadata.get("arr") == V2_ARRAY
    with pytest.raises(MetadataValidationError, match="cannot hold the Zarr V3 node 'x'"):
        GroupMetadata(zarr_format=2, consolidated_metadata=ConsolidatedMetadata({"x": V3_ARRAY})).to_json_bytes()

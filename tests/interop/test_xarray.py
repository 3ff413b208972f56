"""xarray's ``engine="zarrlayered"`` against xarray's own ``engine="zarr"`` (zarr-python 3).

Every store here is written by xarray itself (``Dataset.to_zarr`` through zarr-python 3), V2 and V3,
with and without consolidated metadata, with CF-encoded variables: packed floats (``scale_factor``,
``add_offset``, integer ``_FillValue``), datetimes, NaN fill values, variable-length and fixed-length
strings, a masked integer, booleans, a non-index coordinate and a sharded V3 variable.
"""

from __future__ import annotations

import logging
import math
import pickle
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.array
import numcodecs
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

import zarrlayered
from zarrlayered.compat.xarray_backend import ZarrlayeredBackendArray, ZarrlayeredBackendEntrypoint
from zarrlayered.errors import MissingDimensionNamesError
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.logging import LoggingStore

FORMATS = [pytest.param(2, id="v2"), pytest.param(3, id="v3")]
CONSOLIDATED = [pytest.param(True, id="consolidated"), pytest.param(False, id="plain")]
#: Encoding entries whose values are objects of the reading library (compared by their JSON form).
CODEC_KEYS = ("compressors", "filters", "serializer")


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    """zarr-python warns about V3 consolidated metadata and unstable V3 data types; xarray warns when a
    store has no consolidated metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        warnings.simplefilter("ignore", zarr.errors.UnstableSpecificationWarning)
        warnings.filterwarnings("ignore", "Failed to open Zarr store with consolidated", RuntimeWarning)
        yield


def cf_dataset(zarr_format: int) -> xr.Dataset:
    """A small dataset whose variables exercise xarray's CF encodings."""
    rng = np.random.default_rng(10)
    temp = (rng.random((6, 5)) * 30).astype("f4")
    temp[1, 2] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "x"), temp, {"units": "degC", "long_name": "température"}),
            "precip": (("time", "x"), rng.random((6, 5)), {"valid": [0, 1]}),
            "name": (("x",), np.array(["a", "bb", "ccc", "", "日本"], dtype=object)),
            "code": (("x",), np.array([b"a", b"bb", b"c", b"d", b"e"])),
            "count": (("x",), np.array([1, 2, -1, 4, 5], dtype="i2")),
            "flag": (("x",), np.array([True, False, True, True, False])),
            "elapsed": (("time",), pd.to_timedelta(np.arange(6), unit="h")),
        },
        coords={
            "time": pd.date_range("2000-01-01", periods=6, freq="6h"),
            "x": np.arange(5) * 1.5,
            "lat": (("x",), np.linspace(-10, 10, 5), {"standard_name": "latitude"}),
        },
        attrs={"title": "CF test", "history": ["made", "here"], "n": 3},
    )
    ds["precip"][0, 0] = np.nan
    ds["temp"].encoding = {"scale_factor": 0.01, "add_offset": 1.0, "dtype": "i2", "_FillValue": -9999,
                           "chunks": (2, 5)}
    ds["precip"].encoding = {"chunks": (3, 2)}
    if zarr_format == 3:
        ds["precip"].encoding["shards"] = (6, 4)
    ds["count"].encoding = {"_FillValue": -1}
    ds["time"].encoding = {"units": "hours since 2000-01-01", "chunks": (4,)}
    return ds


def write(path: Path, zarr_format: int, consolidated: bool, ds: xr.Dataset | None = None, **kwargs: Any) -> Path:
    (cf_dataset(zarr_format) if ds is None else ds).to_zarr(
        path, mode="w", zarr_format=zarr_format, consolidated=consolidated, **kwargs
    )
    return path


def codec_json(codec: Any) -> Any:
    """A codec of either library as JSON: numcodecs' config, or the V3 ``{"name", "configuration"}``."""
    if isinstance(codec, numcodecs.abc.Codec):
        return codec.get_config()
    as_dict = dict(codec if isinstance(codec, dict) else codec.to_dict())
    as_dict.setdefault("configuration", {})
    return as_dict


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating) and math.isnan(a):
        return math.isnan(b)
    equal = a == b
    return bool(np.all(equal)) if isinstance(equal, np.ndarray) else bool(equal)


def assert_same_encoding(expected: xr.Dataset, actual: xr.Dataset) -> None:
    for name, theirs in expected.variables.items():
        ours = actual.variables[name]
        assert set(ours.encoding) == set(theirs.encoding), name
        for key, value in theirs.encoding.items():
            if key in CODEC_KEYS:
                codecs = value if isinstance(value, tuple) else (value,)
                mine = ours.encoding[key] if isinstance(value, tuple) else (ours.encoding[key],)
                assert [codec_json(c) for c in mine] == [codec_json(c) for c in codecs], (name, key)
            else:
                assert same_value(value, ours.encoding[key]), (name, key, value, ours.encoding[key])


def assert_same_dataset(expected: xr.Dataset, actual: xr.Dataset) -> None:
    """Identical (values, dims, coords, attrs), same dtypes, Dask chunks and encodings."""
    xr.testing.assert_identical(expected, actual)
    assert sorted(actual.coords) == sorted(expected.coords)
    assert set(actual.xindexes) == set(expected.xindexes)
    for name, theirs in expected.variables.items():
        ours = actual.variables[name]
        assert ours.dtype == theirs.dtype, name
        assert ours.chunks == theirs.chunks, name
    assert_same_encoding(expected, actual)


# -- the entry point -----------------------------------------------------------------------------------------
def test_engine_is_registered() -> None:
    engines = xr.backends.list_engines()
    assert isinstance(engines["zarrlayered"], ZarrlayeredBackendEntrypoint)
    entrypoint = engines["zarrlayered"]
    assert "zarrlayered" in entrypoint.description
    assert isinstance(entrypoint.url, str)
    parameters = entrypoint.open_dataset_parameters
    for name in ("filename_or_obj", "drop_variables", "group", "consolidated", "storage_options",
                 "mask_and_scale", "decode_times", "zarr_format"):
        assert name in parameters


def test_guess_can_open(tmp_path: Path) -> None:
    entrypoint = ZarrlayeredBackendEntrypoint()
    store = write(tmp_path / "data.zarr", 3, True)
    renamed = store.rename(tmp_path / "no_suffix")
    assert entrypoint.guess_can_open("anything.zarr")
    assert entrypoint.guess_can_open("s3://bucket/anything.zarr/")
    assert entrypoint.guess_can_open(renamed)
    assert entrypoint.guess_can_open(LocalStore(renamed))
    assert entrypoint.guess_can_open(zarrlayered.open_group(renamed, mode="r"))
    assert not entrypoint.guess_can_open(tmp_path)
    assert not entrypoint.guess_can_open("data.nc")
    assert not entrypoint.guess_can_open(b"bytes")


# -- opening xarray-written stores ---------------------------------------------------------------------------
@pytest.mark.parametrize("consolidated", CONSOLIDATED)
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_open_dataset_matches_the_zarr_engine(tmp_path: Path, zarr_format: int, consolidated: bool) -> None:
    path = write(tmp_path / "data.zarr", zarr_format, consolidated)
    with xr.open_dataset(path, engine="zarr", chunks={}) as theirs, \
            xr.open_dataset(path, engine="zarrlayered", chunks={}) as ours:
        assert_same_dataset(theirs, ours)
        for name, variable in ours.variables.items():  # Dask blocks are the storage chunks
            if name in ours.xindexes:
                continue
            assert isinstance(variable.data, dask.array.Array), name
            chunks = variable.encoding["chunks"]
            assert all(block == size for blocks, size in zip(variable.chunks, chunks, strict=True)
                       for block in blocks[:-1]), name
        assert ours["precip"].encoding["shards"] == ((6, 4) if zarr_format == 3 else None)
        xr.testing.assert_identical(theirs.compute(), ours.compute())
        assert ours["name"].dtype == np.dtypes.StringDType()
        assert ours["name"].values.tolist() == ["a", "bb", "ccc", "", "日本"]
        assert np.isnan(ours["temp"].values[1, 2])
        assert np.isnan(ours["count"].values[2])
        assert ours["time"].dtype.kind == "M"
        assert ours["elapsed"].dtype.kind == "m"


@pytest.mark.parametrize("zarr_format", FORMATS)
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"mask_and_scale": False}, id="no-mask-and-scale"),
        pytest.param({"decode_times": False, "decode_timedelta": False}, id="no-times"),
        pytest.param({"decode_coords": False, "concat_characters": False}, id="no-coords"),
        pytest.param({"drop_variables": ["temp", "lat"]}, id="drop"),
        pytest.param({"drop_variables": "name"}, id="drop-one"),
    ],
)
def test_decoding_options_match_the_zarr_engine(tmp_path: Path, zarr_format: int, options: dict[str, Any]) -> None:
    path = write(tmp_path / "data.zarr", zarr_format, True)
    with xr.open_dataset(path, engine="zarr", **options) as theirs, \
            xr.open_dataset(path, engine="zarrlayered", **options) as ours:
        assert_same_dataset(theirs, ours)
        xr.testing.assert_identical(theirs.load(), ours.load())


@pytest.mark.parametrize("mask", [True, False])
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_zarr_fill_value_as_mask_matches_xarrays_zarr_store(tmp_path: Path, zarr_format: int, mask: bool) -> None:
    """``use_zarr_fill_value_as_mask`` means what it means to xarray's ``ZarrStore`` (xarray's
    ``open_dataset``/``open_zarr`` of this version do not pass it on, so the store is opened directly)."""
    path = write(tmp_path / "data.zarr", zarr_format, True)
    zarr_store = xr.backends.ZarrStore.open_group(str(path), mode="r", consolidated=True,
                                                  use_zarr_fill_value_as_mask=mask)
    with xr.open_dataset(zarr_store) as theirs, \
            xr.open_dataset(path, engine="zarrlayered", use_zarr_fill_value_as_mask=mask) as ours:
        assert_same_dataset(theirs, ours)
        xr.testing.assert_identical(theirs.load(), ours.load())


def test_pickled_dataset_reads_again(tmp_path: Path) -> None:
    """A Dask-backed dataset pickles (the graph holds the array's store and path, not data), as
    dask.distributed needs."""
    path = write(tmp_path / "data.zarr", 3, True)
    with xr.open_dataset(path, engine="zarrlayered", chunks={}) as ours:
        payload = pickle.dumps(ours)
        assert len(payload) < 64_000
        xr.testing.assert_identical(ours.load(), pickle.loads(payload).load())


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_lazy_indexing_matches_the_zarr_engine(tmp_path: Path, zarr_format: int) -> None:
    path = write(tmp_path / "data.zarr", zarr_format, True)
    with xr.open_dataset(path, engine="zarr") as theirs, xr.open_dataset(path, engine="zarrlayered") as ours:
        selections: list[dict[str, Any]] = [
            {"time": 1},
            {"time": slice(1, 5, 2), "x": slice(None, None, -1)},
            {"time": [4, 0, 2], "x": [3, 1]},
            {"time": xr.DataArray([0, 5, 3], dims="p"), "x": xr.DataArray([4, 0, 1], dims="p")},
            {"x": np.array([True, False, True, False, True])},
        ]
        for selection in selections:
            xr.testing.assert_identical(theirs.isel(selection).load(), ours.isel(selection).load())
        assert ours["name"][[4, 0]].values.tolist() == ["日本", "a"]


def _keys_read(records: list[logging.LogRecord]) -> list[str]:
    """The keys of the ``get`` calls a LoggingStore logged (``"%s(%s) on %r took %.3f ms"``)."""
    return [
        str(record.args[1]) for record in records
        if record.name == "zarrlayered.store" and isinstance(record.args, tuple) and record.args[0] == "get"
    ]


def test_reads_are_lazy_and_chunked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "data.zarr", 3, True)
    store = LoggingStore(LocalStore(path, read_only=True), log_level=logging.INFO)
    with caplog.at_level(logging.INFO, logger="zarrlayered.store"):
        ds = xr.open_dataset(store, engine="zarrlayered", zarr_format=3)
        opened = _keys_read(caplog.records)
        # one metadata document (the root zarr.json, every array's metadata consolidated in it), then
        # the index coordinates xarray loads to build its indexes; no other data
        assert opened[0] == "zarr.json"
        assert {key.split("/")[0] for key in opened[1:]} == {"time", "x"}
        caplog.clear()
        value = float(ds["temp"][4, 1])
        assert _keys_read(caplog.records) == ["temp/c/2/0"]  # one chunk of (2, 5)
    assert value == pytest.approx(float(cf_dataset(3)["temp"][4, 1]), abs=0.006)
    ds.close()
    assert not store.closed  # a store the caller passed is left open


def test_backend_array_reads_outer_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "data.zarr", 2, False)
    array = zarrlayered.open_group(path, mode="r")["name"]
    backend = ZarrlayeredBackendArray(array)  # type: ignore[arg-type]
    assert backend.shape == (5,) and backend.dtype == np.dtypes.StringDType()
    key = xr.core.indexing.OuterIndexer((np.array([4, 1]),))
    assert backend[key].tolist() == ["日本", "bb"]
    assert backend.get_array() is array


async def test_load_async(tmp_path: Path) -> None:
    path = write(tmp_path / "data.zarr", 3, True)
    with xr.open_dataset(path, engine="zarr") as theirs, xr.open_dataset(path, engine="zarrlayered") as ours:
        loaded = await ours.load_async()
        xr.testing.assert_identical(theirs.load(), loaded)


# -- groups -------------------------------------------------------------------------------------------------
def _write_tree(path: Path, zarr_format: int, consolidated: bool) -> None:
    base = cf_dataset(zarr_format)
    tree = xr.DataTree.from_dict({
        "/": base[["count", "flag"]],
        "/model": base[["temp"]].assign_attrs(kind="model"),
        "/model/run1": xr.Dataset({"value": ("y", np.arange(3.0))}, attrs={"run": 1}),
        "/obs": base[["name", "precip"]],
    })
    tree.to_zarr(path, mode="w", zarr_format=zarr_format, consolidated=consolidated)


@pytest.mark.parametrize("consolidated", CONSOLIDATED)
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_groups_match_the_zarr_engine(tmp_path: Path, zarr_format: int, consolidated: bool) -> None:
    path = tmp_path / "tree.zarr"
    _write_tree(path, zarr_format, consolidated)
    with xr.open_datatree(path, engine="zarr") as theirs, xr.open_datatree(path, engine="zarrlayered") as ours:
        xr.testing.assert_identical(theirs, ours)
        assert sorted(ours.subtree_with_keys) == sorted(theirs.subtree_with_keys)  # type: ignore[attr-defined]
    with xr.open_datatree(path, engine="zarr", group="model") as theirs, \
            xr.open_datatree(path, engine="zarrlayered", group="model") as ours:
        xr.testing.assert_identical(theirs, ours)
    for group in ("model", "/model/run1", "obs"):
        with xr.open_dataset(path, engine="zarr", group=group, chunks={}) as theirs, \
                xr.open_dataset(path, engine="zarrlayered", group=group, chunks={}) as ours:
            assert_same_dataset(theirs, ours)
    groups = ZarrlayeredBackendEntrypoint().open_groups_as_dict(path)
    assert sorted(groups) == ["/", "/model", "/model/run1", "/obs"]
    for ds in groups.values():
        ds.close()


# -- what xarray needs and a store does not have ---------------------------------------------------------------
@pytest.mark.parametrize("zarr_format", FORMATS)
def test_array_without_dimension_names_is_refused(tmp_path: Path, zarr_format: int) -> None:
    root = zarrlayered.open_group(tmp_path / "bare.zarr", mode="w", zarr_format=zarr_format)
    root.create_array("anonymous", shape=(3,), dtype="i4")
    with pytest.raises(KeyError, match="anonymous") as info:
        xr.open_dataset(tmp_path / "bare.zarr", engine="zarrlayered")
    assert isinstance(info.value, MissingDimensionNamesError)


def test_consolidated_true_requires_consolidated_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "data.zarr", 2, False)
    with pytest.raises(ValueError, match="consolidated"):
        xr.open_dataset(path, engine="zarrlayered", consolidated=True)
    with pytest.raises(FileNotFoundError):
        xr.open_dataset(tmp_path / "missing.zarr", engine="zarrlayered")


# -- round trips --------------------------------------------------------------------------------------------
def test_opened_dataset_writes_back_through_to_zarr(tmp_path: Path) -> None:
    """The encoding (chunks, shards, codecs as JSON, fill value) is what ``to_zarr`` needs to write a copy."""
    source = write(tmp_path / "data.zarr", 3, True)
    copy = tmp_path / "copy.zarr"
    with xr.open_dataset(source, engine="zarrlayered") as ours:
        ours.to_zarr(copy, mode="w", zarr_format=3, consolidated=True)
    with xr.open_dataset(source, engine="zarr") as original, xr.open_dataset(copy, engine="zarrlayered") as again:
        assert_same_dataset(original, again)
    copied, written = zarr.open_group(copy, mode="r"), zarr.open_group(source, mode="r")
    for name in ("temp", "precip", "name"):
        assert copied[name].metadata.to_dict() == written[name].metadata.to_dict(), name


def test_dataset_written_by_zarrlayered_store(tmp_path: Path) -> None:
    """``to_zarr`` into a zarrlayered-made V2 store, read back by both engines."""
    ds = cf_dataset(2).drop_vars(["elapsed"])
    path = tmp_path / "data.zarr"
    ds.to_zarr(path, mode="w", zarr_format=2, consolidated=True)
    zarrlayered.consolidate_metadata(str(path))  # rewritten by zarrlayered
    with xr.open_dataset(path, engine="zarr", chunks={}) as theirs, \
            xr.open_dataset(path, engine="zarrlayered", chunks={}) as ours:
        assert_same_dataset(theirs, ours)
        # packed to int16 on writing: equal to 0.005; the masked -1 of 'count' reads as NaN
        xr.testing.assert_allclose(ds.drop_vars("count"), ours.compute().drop_vars("count"), atol=0.006)


def test_group_argument_naming_an_array_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "data.zarr", 3, True)
    with pytest.raises(KeyError, match=r"'temp'.*not a group"):
        xr.open_dataset(path, engine="zarrlayered", group="temp")
    with pytest.raises(KeyError, match="nothing"):
        xr.open_dataset(path, engine="zarrlayered", group="nothing", consolidated=False)
    root = zarrlayered.open_group(path, mode="r")
    with xr.open_dataset(root, engine="zarrlayered") as ours, xr.open_dataset(path, engine="zarr") as theirs:
        xr.testing.assert_identical(theirs, ours)


def test_zip_archive_of_a_store(tmp_path: Path) -> None:
    """A store zipped after ``to_zarr`` opens through zarrlayered's ZipStore (a path ending in ``.zip``)."""
    path = write(tmp_path / "data.zarr", 2, True)
    archive = shutil.make_archive(str(tmp_path / "data.zarr"), "zip", root_dir=path)
    with xr.open_dataset(path, engine="zarr", chunks={}) as theirs, \
            xr.open_dataset(archive, engine="zarrlayered", chunks={}) as ours:
        assert_same_dataset(theirs, ours)
        xr.testing.assert_identical(theirs.load(), ours.load())

"""Small h5py programs, each run once with real h5py and once with ``zarrlayered.h5py_compat``.

Every program takes the module (``h5py`` or the shim), a path for the file and ``out`` (a print that
records). What it prints, and the class of every exception it catches, must be identical for both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

Out = Callable[..., None]
Program = Callable[[Any, str, Out], None]

PROGRAMS: dict[str, Program] = {}


def program(fn: Program) -> Program:
    PROGRAMS[fn.__name__] = fn
    return fn


def raises(out: Out, label: str, fn: Callable[[], Any]) -> None:
    """Print the class of the exception ``fn`` raises (or that it raised none)."""
    try:
        fn()
    except Exception as exc:  # the class is what is compared
        out(label, "raises", type(exc).__name__)
    else:
        out(label, "raises nothing")


@program
def roundtrip(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", data=np.arange(24, dtype="i4").reshape(4, 6))
        out(d, d.shape, d.dtype, d.ndim, d.size, d.nbytes, len(d), d.len())
        out(repr(d[...]), repr(d[1]), repr(d[1, 2]), repr(d[()]))
        out(f, f.name, f.mode, d.name, d.parent.name, d.file == f, os.path.basename(f.filename))
    with h5py.File(path, "r") as f:
        d = f["data"]
        out(repr(d[:, 1:3]), repr(d[-1]), d.chunks, d.maxshape, d.fillvalue, d.compression)
        raises(out, "write in r", lambda: d.__setitem__(0, 1))
        raises(out, "group in r", lambda: f.create_group("g"))
        raises(out, "dataset in r", lambda: f.create_dataset("z", (2,), "f4"))
        raises(out, "attr in r", lambda: f.attrs.__setitem__("a", 1))
        raises(out, "del in r", lambda: f.__delitem__("data"))
    out(repr(f), bool(f))


@program
def groups(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        g = f.create_group("a/b/c")
        out(g, g.name, g.parent.name, g.parent.parent.name)
        f.create_group("z")
        f.require_group("a/b")
        f["a/x"] = np.ones(3)
        f["a"].create_dataset("y", data=[1, 2])
        out(list(f), list(f["a"]), len(f), len(f["a"]), f.keys(), list(f["a"].keys()))
        out("a/b" in f, "/a/b/c" in f, "a/b/c/" in f, "nope" in f, "b" in f["a"], "." in f, "/" in f, "" in f)
        out(f["/a"]["/a/b"].name, f["a"]["b/c"].name, f["a/b"]["."].name)
        out(f.get("nope"), f.get("nope", 3), f.get("a", getclass=True).__name__, f.get("a/x", getclass=True).__name__)
        names: list[str] = []
        f.visit(names.append)
        out(names)
        out(f.visit(lambda n: n if n.endswith("c") else None))
        items: list[str] = []
        f.visititems(lambda n, o: items.append(f"{n}:{type(o).__name__}"))
        out(items)
        out([(k, type(v).__name__) for k, v in f["a"].items()], [v.name for v in f["a"].values()])
        raises(out, "duplicate group", lambda: f.create_group("z"))
        raises(out, "duplicate dataset", lambda: f.create_dataset("a/x", (2,), "f4"))
        raises(out, "assign existing", lambda: f.__setitem__("a/x", 5))
        raises(out, "missing", lambda: f["nope"])
        raises(out, "bad key", lambda: f[1])
        raises(out, "require over dataset", lambda: f.require_group("a/x"))
        del f["z"]
        raises(out, "del missing", lambda: f.__delitem__("z"))
        out(list(f), f.pop("a/x").shape, "x" in f["a"])
        f["a"].clear()
        out(len(f["a"]), list(f))


@program
def create_options(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("plain", (10, 20), dtype="f4")
        out(d.dtype, d.chunks, d.maxshape, d.compression, d.shuffle, d.fletcher32, repr(d.fillvalue))
        d = f.create_dataset("auto", (1000, 100), dtype="i8", chunks=True)
        out(d.chunks, d.maxshape)
        d = f.create_dataset("grow", (0, 3), maxshape=(None, 3), dtype="f8")
        out(d.chunks, d.maxshape, d.shape)
        d = f.create_dataset("gz", (100, 100), "i4", compression="gzip", compression_opts=7, shuffle=True,
                             fletcher32=True)
        out(d.chunks, d.compression, d.compression_opts, d.shuffle, d.fletcher32, d.scaleoffset)
        d = f.create_dataset("legacy", (50,), "f4", compression=3)
        out(d.compression, d.compression_opts, d.chunks)
        d = f.create_dataset("lzf", data=np.arange(100), compression="lzf")
        out(d.compression, d.compression_opts, repr(d[:5]))
        d = f.create_dataset("fill", (5,), "f4", fillvalue=2.5)
        out(repr(d[...]), repr(d.fillvalue))
        d = f.create_dataset("explicit", (100,), "i2", chunks=(10,))
        out(d.chunks, d.maxshape)
        d = f.create_dataset("reshape", (3, 4), data=np.arange(12))
        out(repr(d[...]))
        d = f.create_dataset("intshape", 7, dtype="u1")
        out(d.shape, d.dtype)
        d = f.create_dataset("so", (10,), dtype="f8", scaleoffset=2)
        d[...] = np.linspace(0, 1, 10)
        out(d.scaleoffset, repr(np.round(d[...], 2)))
        raises(out, "no shape", lambda: f.create_dataset("bad"))
        raises(out, "shape vs data", lambda: f.create_dataset("bad", (4,), data=np.arange(3)))
        raises(out, "chunks too big", lambda: f.create_dataset("bad", (10,), "f4", chunks=(20,)))
        raises(out, "chunks scalar", lambda: f.create_dataset("bad", (), "f4", chunks=(1,)))
        raises(out, "gzip level", lambda: f.create_dataset("bad", (10,), "f4", compression="gzip",
                                                           compression_opts=12))
        raises(out, "lzf opts", lambda: f.create_dataset("bad", (10,), "f4", compression="lzf", compression_opts=1))
        raises(out, "unknown filter", lambda: f.create_dataset("bad", (10,), "f4", compression="nope"))
        raises(out, "U dtype", lambda: f.create_dataset("bad", (3,), "U5"))
        raises(out, "object dtype", lambda: f.create_dataset("bad", (3,), object))
        raises(out, "chunks False", lambda: f.create_dataset("bad", (10,), "f4", maxshape=(20,), chunks=False))
        raises(out, "scaleoffset bool", lambda: f.create_dataset("bad", (10,), bool, scaleoffset=True))
        out(list(f))


@program
def resize(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("d", (2, 3), maxshape=(None, 5), dtype="i4")
        d[...] = np.arange(6).reshape(2, 3)
        d.resize((4, 5))
        out(d.shape, repr(d[...]))
        d.resize(1, axis=0)
        out(d.shape, repr(d[...]))
        d.resize(3, axis=0)
        out(repr(d[...]))
        raises(out, "beyond maxshape", lambda: d.resize((2, 6)))
        raises(out, "bad axis", lambda: d.resize(3, axis=2))
        c = f.create_dataset("c", (3,), "f4")
        raises(out, "contiguous", lambda: c.resize((4,)))
        e = f.create_dataset("e", (3,), "f4", maxshape=(10,))
        e.resize((10,))
        out(e.shape, e.maxshape)


@program
def reading(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("d", data=np.arange(60, dtype="f8").reshape(3, 4, 5), chunks=(2, 2, 2))
        for sel in [(1,), (slice(None), 2), (Ellipsis, 1), (1, Ellipsis, 2), (slice(0, 3, 2), slice(1, None)),
                    ([0, 2],), (slice(None), [1, 3], 0), (-1, -1, -1), (slice(5, 10),), ((), ),
                    (np.array([True, False, True]),), (slice(None), np.array([False, True, True, False])),
                    (range(0, 3, 2),), (slice(-2, None), 0, [0, 4])]:
            key = sel[0] if len(sel) == 1 else sel
            out(repr(d[key]))
        mask = d[...] > 50
        out(repr(d[mask]))
        raises(out, "decreasing", lambda: d[[2, 1]])
        raises(out, "repeated", lambda: d[[1, 1]])
        raises(out, "two lists", lambda: d[[0, 1], [0, 1]])
        raises(out, "negative step", lambda: d[::-1])
        raises(out, "zero step", lambda: d[::0])
        raises(out, "out of range", lambda: d[5])
        raises(out, "list out of range", lambda: d[[0, 7]])
        raises(out, "newaxis", lambda: d[None])
        raises(out, "float", lambda: d[1.5])
        raises(out, "too many", lambda: d[0, 0, 0, 0])
        raises(out, "two ellipses", lambda: d[..., ...])
        raises(out, "mask shape", lambda: d[np.ones((3, 4), bool)])
        raises(out, "field", lambda: d["x"])
        out([repr(row) for row in f.create_dataset("small", data=np.arange(6).reshape(3, 2))])
        out(list(d.iter_chunks(np.s_[1:3, 1, :])))


@program
def writing(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("d", (4, 5), dtype="i4")
        d[0] = 7
        d[1, :] = np.arange(5)
        d[2:4, 1:3] = [[1, 2], [3, 4]]
        d[:, 4] = np.full((4,), 9)
        d[:, 0] = np.zeros((4, 1)).reshape(4)
        d[[1, 3], 2] = [11, 33]
        d[d[...] == 9] = -1
        d[...] = d[...] + 1
        out(repr(d[...]))
        raises(out, "broadcast", lambda: d.__setitem__(0, np.arange(4)))
        raises(out, "fancy scalar", lambda: d.__setitem__([0, 2], 1))
        raises(out, "bad literal", lambda: d.__setitem__(0, "a"))
        raises(out, "wrong 2d", lambda: d.__setitem__((slice(None), 1), np.zeros((4, 1))))
        z = f.create_dataset("z", (0,), "f4", maxshape=(None,))
        z[:] = 1
        raises(out, "empty sel", lambda: z.__setitem__(slice(None), np.arange(4)))
        f["f"] = np.arange(10.0)
        f["f"][3:5] = [30.5, 40.5]
        out(repr(f["f"][...]))
        dst = np.zeros((6,), "f8")
        f["f"].read_direct(dst, np.s_[2:8], np.s_[:])
        out(repr(dst))
        f["f"].write_direct(np.array([1.0, 2.0]), np.s_[:], np.s_[8:10])
        out(repr(f["f"][...]), repr(f["f"].astype("i2")[2:6]), repr(np.asarray(f["f"])[:3]))


@program
def scalars(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        s = f.create_dataset("s", data=3.5)
        out(s.shape, s.chunks, s.maxshape, s.size, repr(s[()]), repr(s[...]), s.ndim)
        s[()] = 4
        out(repr(s[()]))
        s[...] = 5
        out(repr(s[()]))
        raises(out, "index scalar", lambda: s[0])
        raises(out, "slice scalar", lambda: s[0:1])
        raises(out, "len scalar", lambda: len(s))
        raises(out, "iter scalar", lambda: list(s))
        i = f.create_dataset("i", (), "i1")
        out(repr(i[()]), type(i[()]).__name__)
        e = f.create_dataset("e", dtype="f4")
        out(e.shape, e.size, e.ndim, e.nbytes, e.maxshape, e.chunks, repr(e[()]), repr(e[...]))
        e2 = f.create_dataset("e2", data=h5py.Empty("i8"))
        out(e2.shape, e2.dtype, repr(e2[()]))
        raises(out, "slice empty", lambda: e[0:1])
        raises(out, "empty chunks", lambda: f.create_dataset("bad", dtype="f4", chunks=True))


@program
def strings(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        v = f.create_dataset("v", (3,), dtype=h5py.string_dtype())
        v[0] = "héllo"
        v[1] = b"bytes"
        out(repr(v[...]), repr(v[0]), v.dtype, h5py.check_string_dtype(v.dtype), repr(v.fillvalue))
        out(repr(v.asstr()[...]), repr(v.asstr()[0]), repr(v.asstr("ascii", "ignore")[0]), len(v.asstr()))
        a = f.create_dataset("a", (2,), dtype=h5py.string_dtype("ascii"), fillvalue=b"fill")
        a[0] = "ascii"
        out(repr(a[...]), h5py.check_string_dtype(a.dtype), repr(a.asstr()[...]), repr(a.fillvalue))
        raises(out, "non-ascii", lambda: a.__setitem__(1, "é"))
        s = f.create_dataset("s", data=np.array([b"ab", b"cde"]))
        out(repr(s[...]), s.dtype, repr(s[1]), h5py.check_string_dtype(s.dtype), repr(s.asstr()[...]))
        u = f.create_dataset("u", (2,), dtype=h5py.string_dtype("utf-8", 6))
        u[0] = "cù"
        out(repr(u[...]), u.dtype, h5py.check_string_dtype(u.dtype), repr(u.asstr()[0]))
        f["auto_str"] = ["x", "yy"]
        f["auto_bytes"] = [b"x", b"yy"]
        f["one"] = "single"
        out(repr(f["auto_str"][...]), repr(f["auto_bytes"][...]), repr(f["one"][()]), f["one"].shape)
        out(h5py.check_string_dtype(f["auto_str"].dtype), h5py.check_string_dtype(f["auto_bytes"].dtype))
        raises(out, "asstr on numbers", lambda: f.create_dataset("n", data=[1]).asstr())


@program
def attributes(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        g = f.create_group("g")
        a = g.attrs
        a["int"] = 3
        a["float"] = 2.5
        a["str"] = "text"
        a["bytes"] = b"raw"
        a["list"] = [1, 2, 3]
        a["flist"] = [1.5, 2.5]
        a["strs"] = ["a", "bc"]
        a["bool"] = True
        a["i8"] = np.int8(-3)
        a["u64"] = np.uint64(2**63 + 5)
        a["f32arr"] = np.array([1.5, 2.25], dtype="f4")
        a["be"] = np.array([1, 2], dtype=">i4")
        a["c"] = np.complex64(1 + 2j)
        a["nan"] = np.nan
        a["one"] = np.ones((1,))
        a["2d"] = np.arange(6).reshape(2, 3)
        a["empty_list"] = np.zeros((0,), "i2")
        a["void"] = np.array((1, 2.5), dtype=[("x", "i4"), ("y", "f8")])
        a["fixed"] = np.array([b"ab", b"c"], dtype="S3")
        a.create("created", data=[1, 2, 3, 4], shape=(2, 2), dtype="u2")
        a.create("scalar_shape", data=42, shape=1)
        a.create("e", h5py.Empty("f4"))
        for key in a:
            value = a[key]
            out(key, repr(value), type(value).__name__, getattr(value, "dtype", None))
        out(list(a.keys()), len(a), "int" in a, "nope" in a, a.get("nope", "default"))
        a.modify("int", 10)
        a.modify("new", 1.25)
        out(repr(a["int"]), repr(a["new"]))
        raises(out, "modify shape", lambda: a.modify("int", [1, 2]))
        raises(out, "missing", lambda: a["nope"])
        raises(out, "del missing", lambda: a.__delitem__("nope"))
        raises(out, "U array", lambda: a.__setitem__("u", np.array(["x"])))
        raises(out, "bad shape", lambda: a.create("bad", data=np.arange(4), shape=(5,)))
        raises(out, "embedded nul", lambda: a.__setitem__("nul", b"a\x00b"))
        del a["str"]
        out(sorted(a), [repr(v) for k, v in a.items() if k in ("int", "float")])
        d = f.create_dataset("d", data=[1])
        d.attrs["units"] = "m"
        out(dict(d.attrs), list(f.attrs))


@program
def big_endian(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset("bi", data=np.arange(4, dtype=">i4"))
        f.create_dataset("bf", (3,), dtype=">f8", fillvalue=1.5)
        f["bf"][1] = 2.5
    with h5py.File(path, "r") as f:
        out(f["bi"].dtype, repr(f["bi"][...]), f["bf"].dtype, repr(f["bf"][...]), repr(f["bf"][0]))


@program
def modes(h5py: Any, path: str, out: Out) -> None:
    missing = path + ".missing"
    raises(out, "r missing", lambda: h5py.File(missing, "r"))
    raises(out, "r+ missing", lambda: h5py.File(missing, "r+"))
    raises(out, "default missing", lambda: h5py.File(missing))
    raises(out, "bad mode", lambda: h5py.File(path, "q"))
    with h5py.File(path, "w-") as f:
        f["x"] = 1
    raises(out, "w- existing", lambda: h5py.File(path, "w-"))
    raises(out, "x existing", lambda: h5py.File(path, "x"))
    with h5py.File(path, "a") as f:
        out(f.mode, list(f))
        f["y"] = 2
    with h5py.File(path, "r+") as f:
        out(f.mode, list(f))
    with h5py.File(path) as f:
        out(f.mode, repr(f["y"][()]))
    with h5py.File(path, "w") as f:
        out(f.mode, list(f))
    f = h5py.File(path, "a")
    g = f.create_group("g")
    gf = g.file
    out(gf == f, bool(g), bool(f.id))
    f.close()
    out(bool(f), bool(gf), repr(f), repr(g), bool(g.id), "g" in f)
    raises(out, "closed create", lambda: f.create_group("h"))
    f.close()
    with h5py.File(missing, "a") as f2:
        out(f2.mode, len(f2))


@program
def copy_move(h5py: Any, path: str, out: Out) -> None:
    other = path + ".other"
    with h5py.File(path, "w") as f, h5py.File(other, "w") as f2:
        src = f.create_group("src")
        src.attrs["kind"] = "source"
        src["data"] = np.arange(5)
        src["data"].attrs["unit"] = "s"
        src.create_group("sub")["deep"] = [1.5]
        f.copy("src", "copy1")
        f.copy(src, f2)
        f.copy(src["data"], f2, "renamed")
        f.copy("src", "shallow", shallow=True)
        f.copy(src["data"], "noattrs", without_attrs=True)
        f2.copy(src, f2["/"], "again")
        out(sorted(f), sorted(f2), dict(f["copy1"].attrs), repr(f["copy1/sub/deep"][...]))
        out(repr(f2["src/data"][...]), dict(f2["renamed"].attrs), repr(f2["again/sub/deep"][...]))
        out(list(f["shallow"]), len(f["shallow/sub"]), dict(f["noattrs"].attrs))
        raises(out, "copy onto existing", lambda: f.copy("src", "copy1"))
        d = f["src/data"]
        moving = f["src"]
        f.move("src", "moved/inner")
        out(sorted(f), moving.name, repr(d[...]), f["moved/inner/sub"].name, moving == f["moved/inner"])
        f.create_group("x")
        f.create_group("y")
        raises(out, "move conflict", lambda: f.move("x", "y"))
        f.move("x", "x")
        out(sorted(f))


@program
def compound(h5py: Any, path: str, out: Out) -> None:
    dt = np.dtype([("a", "i4"), ("b", "f8"), ("c", "S4")])
    with h5py.File(path, "w") as f:
        d = f.create_dataset("c", (3,), dtype=dt)
        d[0] = (1, 2.5, b"xy")
        d["a"] = [7, 8, 9]
        d[1:, "b"] = 3.5
        out(repr(d[...]), repr(d[0]), type(d[0]).__name__, repr(d["a"]), repr(d["b", "c"]), repr(d.fillvalue))
        s = f.create_dataset("s", data=np.array((1, 2.0, b"z"), dtype=dt))
        out(repr(s[()]), repr(s["a"]), type(s["a"]).__name__)
        raises(out, "bad field", lambda: d["nope"])
        sub = f.create_dataset("sub", (4,), dtype="(3,)f4")
        sub[1] = [1, 2, 3]
        out(sub.shape, sub.dtype, repr(sub[...]), repr(sub[1]), repr(sub[1:3]))
        raises(out, "sub broadcast", lambda: sub.__setitem__(Ellipsis, 42))
        e = f.create_dataset("enum", (3,), dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1}, basetype="i1"))
        e[1] = 1
        out(repr(e[...]), h5py.check_enum_dtype(e.dtype))


@program
def require(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.require_dataset("d", (10, 3), "f4")
        d2 = f.require_dataset("d", (10, 3), "f4")
        out(d == d2, d2.shape)
        out(f.require_dataset("d", (10, 3), "f2").dtype)
        raises(out, "shape", lambda: f.require_dataset("d", (10, 4), "f4"))
        raises(out, "dtype exact", lambda: f.require_dataset("d", (10, 3), "f8", exact=True))
        raises(out, "dtype unsafe", lambda: f.require_dataset("d", (10, 3), "i8"))
        f.create_group("g")
        raises(out, "group there", lambda: f.require_dataset("g", (1,), "f4"))
        r = f.require_dataset("r", (0, 3), maxshape=(None, 3), dtype=int)
        r.resize(5, axis=0)
        out(f.require_dataset("r", (0, 3), maxshape=(None, 3), dtype=int).shape)
        raises(out, "maxshape differs", lambda: f.require_dataset("r", (0, 3), maxshape=(None, 4), dtype=int))


@program
def track_order(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w", track_order=True) as f:
        for name in ("zeta", "alpha", "mid"):
            f.create_group(name)
        f["data"] = [1]
        g = f.create_group("ordered", track_order=True)
        for name in ("b", "a"):
            g.attrs[name] = 1
        out(list(f), list(g.attrs))
        h = f.create_group("plain")
        for name in ("b", "a"):
            h[name] = [0]
            h.attrs[name] = 0
        out(list(h), list(h.attrs))
    with h5py.File(path, "r") as f:
        out(list(f), list(f["ordered"].attrs))


@program
def helpers(h5py: Any, path: str, out: Out) -> None:
    out(h5py.string_dtype(), h5py.string_dtype().metadata, h5py.string_dtype("ascii").metadata)
    out(h5py.string_dtype(length=4), h5py.check_string_dtype(h5py.string_dtype(length=4)))
    out(h5py.check_string_dtype(np.dtype("f4")), h5py.check_string_dtype(np.dtype("S3")))
    out(h5py.special_dtype(vlen=str).metadata, h5py.check_dtype(vlen=h5py.special_dtype(vlen=bytes)))
    out(h5py.check_dtype(enum=h5py.special_dtype(enum=("i2", {"A": 1}))), h5py.check_dtype(vlen=np.dtype("i4")))
    out(repr(h5py.Empty("f")), h5py.Empty("f") == h5py.Empty("f4"), h5py.Empty("f") == h5py.Empty("i4"))
    raises(out, "bad encoding", lambda: h5py.string_dtype("latin-1"))
    raises(out, "bad length", lambda: h5py.string_dtype(length=1.5))


@program
def raw_stored_dtypes(h5py: Any, path: str, out: Out) -> None:
    dt = np.dtype([("w", "f8", (3,)), ("e", "u1")])
    with h5py.File(path, "w") as f:
        d = f.create_dataset("c", (3,), dtype=dt)
        d["w"] = np.arange(9.0).reshape(3, 3)
        d[2] = ([1.0, 2.0, 3.0], 7)
        out(d.dtype, repr(d[...]), repr(d[1]), repr(d["e"]), repr(d.fillvalue))
        ld = f.create_dataset("ld", (3,), dtype=np.longdouble, fillvalue=1.5)
        ld[0] = 2.25
        out(ld.dtype, repr(ld[...]), repr(ld.fillvalue))
    with h5py.File(path, "r") as f:
        out(repr(f["c"][1:]), repr(f["ld"][-1]))


@program
def everyday(h5py: Any, path: str, out: Out) -> None:
    with h5py.File(path, "w") as f:
        d = f.create_dataset("d", (5,), dtype="i4")
        d[:] = 3
        d[1:3] = [1.9, -2.7]
        d[[0, 4]] = np.array([10, 40], dtype="i8")
        out(repr(d[...]), repr(np.array(d)), repr(np.asarray(d, dtype="f4")), d[...].sum(), d[2] * 2)
        e = f.create_dataset("e", data=d)
        out(repr(e[...]), e.dtype, e.chunks)
        d.attrs.create("scale", 2.5, dtype="f4")
        d.attrs["count"] = np.int16(3)
        d.attrs.modify("count", 7.9)
        d.attrs["flags"] = np.array([True, False])
        d.attrs["mixed"] = [1, 2.5]
        out(repr(d.attrs["scale"]), repr(d.attrs["count"]), repr(d.attrs["flags"]), repr(d.attrs["mixed"]))
        out(sorted(d.attrs.keys()), len(d.attrs))
        g = f.create_group("g")
        out(repr(g), repr(f["g"]), f.values(), f.items(), f.keys(), g.attrs.keys())
        for name, obj in f.items():
            out(name, obj.name, isinstance(obj, h5py.Dataset), isinstance(obj, h5py.Group))
        out(isinstance(f, h5py.Group), isinstance(f["/"], h5py.File), f["/"] == f, f.parent == f["/"])
        if "d" in f:
            del f["d"]
        out("d" in f, len(f))
        c = f.create_dataset("c", data=np.array([1 + 2j, 3 - 1j], dtype="c8"))
        b = f.create_dataset("b", data=np.array([True, False]))
        h = f.create_dataset("h", data=np.array([1.5, 2.5], dtype="f2"))
        out(repr(c[...]), repr(b[...]), repr(h[...]), c.dtype, b.dtype, h.dtype)
        raises(out, "datetime", lambda: f.create_dataset("t", data=np.array(["2020-01-01"], dtype="M8[D]")))
        o = f.create_dataset("o", data=np.array(["2020-01-01"], dtype="M8[D]").astype(h5py.opaque_dtype("M8[D]")))
        out(repr(o[...]), o.dtype)

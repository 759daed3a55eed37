"""The type stubs (python/rmf/_rmf.pyi) and the report types (python/rmf/_types.py) against the
native module: the same names, docstrings that start with the Rust doc comments the runtime
``__doc__`` shows, and dicts whose keys and value types are what the TypedDicts declare.

``python -m mypy.stubtest rmf._rmf`` (test.sh) checks the signatures; this file checks what
stubtest cannot: documentation and the contents of the returned dicts."""

import ast
import pathlib
import typing

import numpy as np
import pyarrow as pa
import pytest

import rmf
import rmf._rmf as native
from rmf import _types

STUB = pathlib.Path(__file__).resolve().parents[1] / "python" / "rmf" / "_rmf.pyi"


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__version__"


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_classes() -> dict:
    return {n.name: n for n in _stub_tree().body if isinstance(n, ast.ClassDef)}


def _documented(body) -> dict:
    """name -> docstring (or None) of the functions and properties in a stub body."""
    out = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = ast.get_docstring(node, clean=True)
        elif isinstance(node, ast.ClassDef):
            out[node.name] = ast.get_docstring(node, clean=True)
    return out


def _words(text) -> str:
    return " ".join((text or "").split())


# -- names ---------------------------------------------------------------------------------


def test_the_stub_names_what_the_module_has():
    stub = set()
    for node in _stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stub.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stub.add(node.target.id)
    stub = {n for n in stub if _public(n)}
    runtime = {n for n in dir(native) if _public(n)}
    assert stub == runtime


@pytest.mark.parametrize("cls", sorted(_stub_classes()))
def test_the_stub_names_what_each_class_has(cls):
    node = _stub_classes()[cls]
    stub = set(_documented(node.body)) | {
        n.target.id
        for n in node.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    runtime_cls = getattr(native, cls)
    if issubclass(runtime_cls, BaseException):
        # The attributes of the errors are set on each raised instance, not on the class.
        assert (
            stub
            == {
                "RmfError": {"kind", "file", "stream", "offset"},
                "RemoteError": {"url", "op", "range", "status", "attempts"},
            }[cls]
        )
        return
    runtime = {n for n in vars(runtime_cls) if not n.startswith("_")}
    assert {n for n in stub if not n.startswith("_")} == runtime
    # Every special method the stub declares is there at run time.
    for n in stub:
        assert hasattr(runtime_cls, n), n


# -- docstrings ----------------------------------------------------------------------------


def _doc_pairs():
    """(qualified name, stub docstring, runtime __doc__) of everything the stub documents."""
    tree = _stub_tree()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, ast.get_docstring(node), getattr(native, node.name).__doc__
        elif isinstance(node, ast.ClassDef):
            cls = getattr(native, node.name)
            yield node.name, ast.get_docstring(node), cls.__doc__
            for name, doc in _documented(node.body).items():
                if name == "__new__":
                    # pyo3 shows no doc for #[new]: the stub carries the Rust one.
                    yield f"{node.name}.__new__", doc, None
                    continue
                member = vars(cls).get(name)
                # Slot wrappers (__len__, ...) have CPython's generic doc, not the Rust one.
                generic = member is None or type(member).__name__ == "wrapper_descriptor"
                yield f"{node.name}.{name}", doc, None if generic else member.__doc__


@pytest.mark.parametrize("name,stub_doc,runtime_doc", list(_doc_pairs()))
def test_every_stub_docstring_starts_with_the_runtime_doc(name, stub_doc, runtime_doc):
    assert stub_doc, f"{name} has no docstring in the stub"
    if runtime_doc:
        # The stub may add arguments, returns and raises after the Rust doc comment.
        assert _words(stub_doc).startswith(_words(runtime_doc)), (
            f"{name}: the stub's docstring does not start with the runtime __doc__:\n{runtime_doc}"
        )


# -- the dicts -----------------------------------------------------------------------------


def _problems(value, tp, where="value") -> list:
    """What in `value` does not fit the type `tp` (TypedDicts, lists, dicts, tuples, unions,
    literals, numpy arrays of a dtype, plain classes)."""
    if tp is typing.Any:
        return []
    if isinstance(tp, type) and hasattr(tp, "__required_keys__"):  # a TypedDict
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, expected a dict"]
        keys = set(value)
        out = [f"{where}: missing key {k!r}" for k in sorted(tp.__required_keys__ - keys)]
        out += [f"{where}: unexpected key {k!r}" for k in sorted(keys - set(tp.__annotations__))]
        hints = typing.get_type_hints(tp)
        for k in sorted(keys & set(hints)):
            out += _problems(value[k], hints[k], f"{where}[{k!r}]")
        return out
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        if any(not _problems(value, a, where) for a in args):
            return []
        return [f"{where}: {value!r} is none of {tp}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} not in {args}"]
    if origin is np.ndarray:
        if not isinstance(value, np.ndarray):
            return [f"{where}: {type(value).__name__}, expected an ndarray"]
        (scalar,) = typing.get_args(args[1])
        ok = scalar is typing.Any or issubclass(
            value.dtype.type, typing.get_origin(scalar) or scalar
        )
        return [] if ok else [f"{where}: dtype {value.dtype}, expected {scalar}"]
    if origin in (list, tuple, dict):
        if not isinstance(value, origin):
            return [f"{where}: {type(value).__name__}, expected {origin.__name__}"]
        if origin is list:
            return [p for i, v in enumerate(value) for p in _problems(v, args[0], f"{where}[{i}]")]
        if origin is dict:
            return [
                p
                for k, v in value.items()
                for p in _problems(k, args[0], f"{where} key")
                + _problems(v, args[1], f"{where}[{k!r}]")
            ]
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        if len(args) != len(value):
            return [f"{where}: {len(value)} items, expected {len(args)}"]
        return [
            p for i, (v, a) in enumerate(zip(value, args)) for p in _problems(v, a, f"{where}[{i}]")
        ]
    if tp is float:
        return [] if isinstance(value, float) else [f"{where}: {value!r} is not a float"]
    if tp is int and isinstance(value, bool):
        return [f"{where}: {value!r} is a bool, expected an int"]
    if value is None and tp is type(None):
        return []
    return [] if isinstance(value, tp) else [f"{where}: {type(value).__name__}, expected {tp}"]


def _check(value, tp):
    assert _problems(value, tp) == []


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Files and the dicts made from them, once for the tests below."""
    root = tmp_path_factory.mktemp("stubs")
    src, out = root / "src", root / "shared"
    src.mkdir()
    key = rmf.generate_key()
    path = src / "ep.rmf"
    t = np.arange(20, dtype=np.int64) * 50_000_000
    meta = {"robot": "arm", "task": "pick", "tags": ["ok"], "site": "lab"}
    with rmf.EpisodeWriter(path, metadata=meta, key=key) as w:
        w.add_signal("ft", "float32", shape=(3,), names=["x", "y", "z"], units=["N"], rate_hz=20)
        w.add_signal("grip", "int16", rate_hz=20, tags={"side": "left"})
        w.add_frames("cam", 16, 16, codec="jpeg", quality=80, rate_hz=20)
        w.add_frames("depth", 16, 16, pixel_format="gray16", units=["mm"], codec="png")
        w.add_frames("video", 16, 16, pixel_format="gray8", codec="h264", qp=30, gop=4)
        w.add_audio("mic", 8000, channels=2)
        w.add_events("notes")
        w.add_signal("secret", "float64", sensitivity="private")
        w.write_many("ft", t, np.ones((20, 3), np.float32))
        w.write_many("grip", t, np.arange(20, dtype=np.int16))
        w.write_many("cam", t, np.full((20, 16, 16, 3), 9, np.uint8))
        w.write_many("depth", t, np.full((20, 16, 16), 900, np.uint16))
        w.write_many("video", t, np.full((20, 16, 16), 7, np.uint8))
        w.write_audio("mic", 0, np.zeros((400, 2), np.int16))
        w.write_event("notes", 100_000_000, kind="note", operator="op", payload={"a": [1]})
        w.write_event("notes", 200_000_000, kind="note")
        w.write_many("secret", t, np.zeros(20))
        summary = w.close()
        again = w.close()
    with rmf.EpisodeWriter(src / "untagged.rmf") as w:
        w.add_signal("ft", "float32", shape=(3,), rate_hz=20)
        w.write_many("ft", t, np.zeros((20, 3), np.float32))
    parts = rmf.split(path, root / "parts", at_ns=[500_000_000], key=key)
    return {
        "root": root,
        "path": path,
        "key": key,
        "summary": summary,
        "again": again,
        "parts": parts,
        "share": rmf.share(src, out, max_label="internal", require_tags=["ok"]),
        "shared": out / "ep.rmf",
        "index": rmf.index(src),
    }


def test_close_returns_a_close_summary(made):
    _check(made["summary"], rmf.CloseSummary)
    assert set(made["summary"]) == set(rmf.CloseSummary.__annotations__)
    assert made["summary"]["frame_queues"], "frame streams encode in the background"
    _check(made["again"], rmf.CloseSummary)
    # A second close returns the same summary (issue 21: kept for `EpisodeWriter.summary`).
    assert made["again"] == made["summary"]


def test_metadata_info_and_reads_are_typed_as_the_stub_says(made):
    ep = rmf.open(made["path"], key=made["key"])
    _check(ep.metadata, rmf.EpisodeMetadata)
    assert {"robot", "task", "extra"} <= set(ep.metadata)
    seen = set()
    for name in ep:
        s = ep[name]
        _check(s.info, rmf.StreamInfo)
        seen |= set(s.info)
        _check(s.kind, _types.StreamKind)
        _check(s.sensitivity, _types.Sensitivity)
        _check(s.shape, tuple[int, ...])
        _check(s.tags, dict[str, str])
        if s.kind == "events":
            assert isinstance(s.read(), pa.Table)
            _check(s.at(10**12), rmf.Event)
            _check(s.nearest(0), rmf.Event)
        else:
            ts, values = s.read()
            assert isinstance(values, np.ndarray) and values.dtype == np.dtype(s.dtype)
            assert isinstance(ts, np.ndarray) and ts.dtype == np.int64
            assert isinstance(s.at(10**12), np.ndarray)
            assert isinstance(s.times(), np.ndarray) and s.times().dtype == np.int64
    # Every key StreamInfo declares occurs in some stream: none is made up.
    assert seen == set(rmf.StreamInfo.__annotations__)
    _check(ep["cam"].stored_frames(), tuple[np.ndarray, list[bytes]])
    _check(ep.skipped_streams, list[tuple[int, str, str]])


def test_edits_return_edit_reports(made, tmp_path):
    key = made["key"]
    _check(rmf.trim(made["path"], tmp_path / "t.rmf", 0, 10**8, key=key), rmf.EditReport)
    _check(rmf.redact(made["path"], tmp_path / "r.rmf", "ft", 0, 10**8, key=key), rmf.EditReport)
    _check(rmf.merge(made["parts"], tmp_path / "m.rmf"), rmf.EditReport)
    _check(made["parts"], list[pathlib.Path])
    _check(rmf.drop_streams(made["path"], tmp_path / "d.rmf", ["mic"]), rmf.EditReport)
    _check(rmf.rename_stream(made["path"], tmp_path / "n.rmf", "ft", "ft2"), rmf.EditReport)
    r = rmf.relabel(
        made["path"],
        tmp_path / "l.rmf",
        sensitivity={"ft": "public"},
        tags={"grip": {"side": ""}},
        meta={"site": None, "task": "place"},
        add_tags=["new"],
    )
    _check(r, rmf.EditReport)


def test_export_returns_an_export_report(made, tmp_path):
    r = rmf.export(made["path"], "ft", tmp_path / "ft.csv")
    _check(r, rmf.ExportReport)
    assert r["rows"] == 20


def test_import_mcap_returns_an_import_report(tmp_path):
    pytest.importorskip("mcap_ros2.writer")
    from test_mcap_import import write_bag

    write_bag(tmp_path / "a.mcap", n=5)
    r = rmf.import_mcap(tmp_path / "a.mcap", tmp_path / "a.rmf")
    _check(r, rmf.McapImportReport)
    assert r["topics"]


def test_transcode_returns_a_transcode_report(made, tmp_path):
    src = tmp_path / "plain.rmf"
    with rmf.EpisodeWriter(src) as w:
        w.add_frames("cam", 16, 16)
        w.add_signal("s", "float32")
        w.write("cam", 0, np.zeros((16, 16, 3), np.uint8))
        w.write("s", 0, 1.0)
    r = rmf.transcode(src, tmp_path / "png.rmf", "png")
    _check(r, rmf.TranscodeReport)
    by = {s[0]: s for s in r["streams"]}
    assert by["cam"][1:3] == ("raw", None) and by["s"][1] is None and by["s"][2]


def test_share_returns_a_share_report(made):
    r = made["share"]
    _check(r, rmf.ShareReport)
    assert r["shared"] and r["left_out"] and r["shared"][0]["provenance"]["dropped"]
    shared = rmf.open(made["shared"])
    _check(shared.metadata["extra"]["provenance"], rmf.Provenance)
    _check(rmf.verify_provenance(made["shared"], made["path"]), list[str])


def test_index_stats_and_samples(made):
    _check(made["index"], rmf.IndexReport)
    ds = rmf.Dataset(
        made["path"].parent,
        reference="ft",
        streams={"ft": rmf.asof(), "notes": rmf.events(window=(-1.0, 0.0))},
        episodes=["ep.rmf"],
        key=made["key"],
    )
    stats = ds.stats
    assert stats
    for s in stats.values():
        _check(s, rmf.StreamStats)
    sample = ds[len(ds) - 1]
    _check(sample["notes"], list[rmf.Event])
    assert sample["notes"]


def test_the_report_types_are_exported():
    for name in _types.__all__:
        assert getattr(rmf, name) is getattr(_types, name), name
        assert name in rmf.__all__, name

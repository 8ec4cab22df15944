"""Checkpoints (TESTING.md §7): bit-exact round trips, every corruption caught, no pickle, atomic
saves under injected failures, readers racing a writer, and check_state's single error."""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import pickle
import stat
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossgrad
from lossgrad import checkpoint
from lossgrad.errors import (CorruptFileError, DomainError, DTypeError, OptionError, ShapeError,
                             UnsafeFileError)

RNG = np.random.default_rng(0)
SHAPES = [(), (0,), (2, 0, 3), (3, 4)]


def random_array(dtype: str, shape: tuple) -> np.ndarray:
    """Random bits of ``dtype`` (NaN payloads, −0.0, subnormals included); bool as 0/1 only."""
    if dtype == "bool":
        return RNG.integers(0, 2, size=shape).astype(bool)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer(RNG.bytes(size), dtype=dtype).reshape(shape).copy()


def assert_bit_exact(got: dict, want: dict) -> None:
    assert list(sorted(got)) == list(sorted(want))
    for name, array in want.items():
        assert got[name].dtype == array.dtype.newbyteorder("="), name
        assert got[name].shape == array.shape, name
        assert got[name].tobytes() == np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("=")).tobytes(), name


def state() -> tuple[dict, dict]:
    tensors = {"fc.weight": RNG.normal(size=(3, 4)).astype(np.float32),
               "fc.bias": np.zeros(3, np.float32),
               "optimizer/state/0/exp_avg": RNG.normal(size=(3, 4)),
               "optimizer/step": np.array(7, np.int64)}
    return tensors, {"epoch": 3, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}}


@pytest.fixture
def saved(tmp_path) -> tuple[checkpoint.CheckpointFiles, dict, dict]:
    tensors, meta = state()
    return checkpoint.save(tmp_path / "model.safetensors", tensors, meta), tensors, meta


def mutate(file: Path, edit) -> None:
    file.write_bytes(bytes(edit(bytearray(file.read_bytes()))))


# ---------------------------------------------------------------------------------------------
# round trips


def test_the_brief_dtypes_are_all_storable():
    assert {"float16", "float32", "float64", "int64", "uint8", "bool"} <= set(checkpoint.DTYPES)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", checkpoint.DTYPES)
def test_every_dtype_and_shape_round_trips_bit_exactly(tmp_path, dtype, shape):
    tensors = {"x": random_array(dtype, shape)}
    checkpoint.save(tmp_path / "m.safetensors", tensors)
    got, meta = checkpoint.load(tmp_path / "m.safetensors")
    assert_bit_exact(got, tensors)
    assert meta == {}


@given(st.dictionaries(st.text(max_size=12).filter(lambda name: name != "__metadata__"),
                       st.sampled_from(checkpoint.DTYPES).flatmap(
                           lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, min_side=0,
                                                                            max_side=4))),
                       max_size=4))
def test_any_names_dtypes_and_values_round_trip_bit_exactly(tensors):
    with tempfile.TemporaryDirectory() as run:
        checkpoint.save(run, tensors)
        assert_bit_exact(checkpoint.load(run)[0], tensors)


def views() -> dict[str, np.ndarray]:
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    read_only = base.copy()
    read_only.flags.writeable = False
    return {"transposed": base.T, "fortran": np.asfortranarray(base), "reversed": base[::-1, ::-1],
            "strided": base[::2, 1::3], "broadcast": np.broadcast_to(base[0], (3, 6)),
            "read_only": read_only, "big_endian": base.astype(">f8")}


def test_any_layout_is_stored_as_its_values(tmp_path):
    checkpoint.save(tmp_path, views())
    got, _ = checkpoint.load(tmp_path)
    for name, view in views().items():
        np.testing.assert_array_equal(got[name], view, err_msg=name)
        assert got[name].flags.c_contiguous and got[name].flags.writeable, name
        assert got[name].dtype == np.float64, name  # native byte order


def test_the_weights_file_is_plain_safetensors(saved):
    files, tensors, _ = saved
    assert_bit_exact(safetensors.numpy.load_file(files.weights), tensors)


@pytest.mark.live
def test_pytorch_reads_the_weights_file(saved):
    torch_safetensors = pytest.importorskip("safetensors.torch")
    files, tensors, _ = saved
    got = torch_safetensors.load_file(files.weights)
    assert_bit_exact({name: value.numpy() for name, value in got.items()}, tensors)


def test_numpy_scalars_are_stored_as_0d_arrays(tmp_path):
    checkpoint.save(tmp_path, {"step": np.int64(7), "scale": np.float16(0.5)})
    got, _ = checkpoint.load(tmp_path)
    assert_bit_exact(got, {"step": np.array(7, np.int64), "scale": np.array(0.5, np.float16)})


def test_an_empty_state_round_trips(tmp_path):
    checkpoint.save(tmp_path, {}, {"note": "nothing yet"})
    assert checkpoint.load(tmp_path) == ({}, {"note": "nothing yet"})


@pytest.mark.parametrize("tensors,error,words", [
    ({"x": np.zeros(2, np.complex128)}, DTypeError, ["tensors['x']", "complex128", "float32"]),
    ({"x": np.array(["a"])}, DTypeError, ["tensors['x']", "<U1"]),
    ({"x": np.array([None])}, DTypeError, ["tensors['x']", "object"]),
    ({"x": [1.0, 2.0]}, DTypeError, ["tensors['x']", "list", "np.asarray"]),
    ({0: np.zeros(2)}, DTypeError, ["names must be str", "0"]),
    ({"__metadata__": np.zeros(2)}, OptionError, ["'__metadata__'", "reserved"]),
    ([("x", np.zeros(2))], DTypeError, ["tensors", "list"]),
])
def test_tensors_that_cannot_be_stored_are_refused(tmp_path, tensors, error, words):
    with pytest.raises(error) as raised:
        checkpoint.save(tmp_path, tensors)
    for word in words:
        assert word in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_bfloat16_is_refused_with_the_cast_to_use(tmp_path):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    with pytest.raises(DTypeError, match=r"bfloat16.*float32"):
        checkpoint.save(tmp_path, {"x": np.zeros(2, ml_dtypes.bfloat16)})


# ---------------------------------------------------------------------------------------------
# metadata


def test_metadata_round_trips(tmp_path):
    rng = np.random.default_rng(123)
    rng.normal(size=5)
    meta = {"architecture": {"layers": [{"dense": 64}, {"relu": None}]}, "epoch": 12,
            "lr": 0.1, "tiny": 5e-324, "huge": 2 ** 100, "flags": [True, False],
            "name": "run ✓ ü", "rng": rng.bit_generator.state,
            "versions": {"numpy": np.__version__}}
    checkpoint.save(tmp_path, {}, meta)
    _, got = checkpoint.load(tmp_path)
    assert got == meta
    restored = np.random.default_rng()
    restored.bit_generator.state = got["rng"]
    np.testing.assert_array_equal(restored.normal(size=3), rng.normal(size=3))


def test_tuples_and_numpy_scalars_come_back_as_json_gives_them(tmp_path):
    checkpoint.save(tmp_path, {}, {"betas": (0.9, 0.999), "step": np.int64(5),
                                   "loss": np.float32(0.25), "done": np.bool_(True)})
    _, got = checkpoint.load(tmp_path)
    assert got == {"betas": [0.9, 0.999], "step": 5, "loss": 0.25, "done": True}
    assert [type(got[k]) for k in ("step", "loss", "done")] == [int, float, bool]


@pytest.mark.parametrize("meta,error,words", [
    ({"state": {0: {"step": 1}}}, DTypeError, ["meta['state']", "0", "str keys"]),
    ({"best": float("inf")}, DomainError, ["meta['best']", "inf", "None"]),
    ({"history": [1.0, float("nan")]}, DomainError, ["meta['history'][1]", "nan"]),
    ({"mask": np.ones(2)}, DTypeError, ["meta['mask']", "ndarray", "tensors"]),
    ({"tags": {"a"}}, DTypeError, ["meta['tags']", "set"]),
    ([("epoch", 1)], DTypeError, ["meta", "list", "dict"]),
])
def test_metadata_json_cannot_hold_is_refused(tmp_path, meta, error, words):
    with pytest.raises(error) as raised:
        checkpoint.save(tmp_path, {}, meta)
    for word in words:
        assert word in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_the_sidecar_records_versions_and_the_weights_hash(saved):
    files, _, meta = saved
    sidecar = json.loads(files.sidecar.read_text())
    data = files.weights.read_bytes()
    assert sidecar["format_version"] == checkpoint.FORMAT_VERSION
    assert sidecar["lossgrad_version"] == lossgrad.__version__
    assert sidecar["weights"] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert sidecar["meta"] == meta


# ---------------------------------------------------------------------------------------------
# paths


def test_resolve_names_the_pair(tmp_path):
    pair = (tmp_path / "m.safetensors", tmp_path / "m.json")
    assert checkpoint.resolve(tmp_path / "m.safetensors") == pair
    assert checkpoint.resolve(str(tmp_path / "m.json")) == pair
    inside = (tmp_path / "checkpoint.safetensors", tmp_path / "checkpoint.json")
    assert checkpoint.resolve(tmp_path) == inside
    new_run = tmp_path / "runs" / "exp1"
    assert checkpoint.resolve(new_run) == (new_run / "checkpoint.safetensors",
                                           new_run / "checkpoint.json")


@pytest.mark.parametrize("name,make", [("model.pt", False), ("model.npz", False), ("exp.1", False),
                                       ("model", True), ("notes.txt", True)])
def test_resolve_refuses_other_paths(tmp_path, name, make):
    if make:
        (tmp_path / name).write_text("not a checkpoint")
    with pytest.raises(OptionError, match=r"\.safetensors file, its \.json sidecar or a run"):
        checkpoint.resolve(tmp_path / name)


def test_every_path_form_reaches_the_same_checkpoint(tmp_path):
    tensors, meta = state()
    run = tmp_path / "runs" / "exp1"
    checkpoint.save(run, tensors, meta)  # creates the folders
    for path in (run, run / "checkpoint.safetensors", run / "checkpoint.json"):
        got, got_meta = checkpoint.load(path)
        assert_bit_exact(got, tensors)
        assert got_meta == meta
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.json", "checkpoint.safetensors"]


# ---------------------------------------------------------------------------------------------
# missing and corrupt files


@pytest.mark.parametrize("remove", [("weights",), ("sidecar",), ("weights", "sidecar")])
def test_a_missing_file_is_named(saved, remove):
    files, _, _ = saved
    for part in remove:
        getattr(files, part).unlink()
    with pytest.raises(FileNotFoundError) as raised:
        checkpoint.load(files.weights)
    for part in remove:
        assert str(getattr(files, part)) in str(raised.value)
    assert raised.value.filename == str(getattr(files, remove[0]))


def test_an_empty_run_folder_names_the_files_it_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint.safetensors.*checkpoint.json"):
        checkpoint.load(tmp_path)


@pytest.mark.parametrize("keep", [0, 1, 8, 50, -1])
def test_truncated_weights_give_both_sizes(saved, keep):
    files, _, _ = saved
    data = files.weights.read_bytes()
    files.weights.write_bytes(data[:keep])
    with pytest.raises(CorruptFileError) as raised:
        checkpoint.load(files.weights)
    message = str(raised.value)
    assert str(files.weights) in message
    assert f"expected {len(data)} bytes" in message and f"got {len(data[:keep])}" in message


def test_a_trailing_byte_in_the_weights_is_caught(saved):
    files, _, _ = saved
    mutate(files.weights, lambda data: data + b"\0")
    with pytest.raises(CorruptFileError, match="bytes"):
        checkpoint.load(files.weights)


@pytest.mark.parametrize("part", ["weights", "sidecar"])
def test_a_flipped_byte_anywhere_is_caught(tmp_path, part):
    files = checkpoint.save(tmp_path / "m.json", {"w": np.arange(3, dtype=np.float32)},
                            {"epoch": 3})
    file = getattr(files, part)
    original = file.read_bytes()
    for index, mask in itertools.product(range(len(original)), (0x01, 0xFF)):
        flipped = bytearray(original)
        flipped[index] ^= mask
        file.write_bytes(bytes(flipped))
        with pytest.raises(CorruptFileError) as raised:
            checkpoint.load(files.weights)
        assert str(file) in str(raised.value), (index, mask)
    file.write_bytes(original)
    checkpoint.load(files.weights)


@given(st.data())
def test_any_changed_sidecar_byte_is_caught(data):
    with tempfile.TemporaryDirectory() as run:
        files = checkpoint.save(run, *state())
        original = files.sidecar.read_bytes()
        index = data.draw(st.integers(0, len(original) - 1))
        value = data.draw(st.integers(0, 255).filter(lambda v: v != original[index]))
        mutate(files.sidecar, lambda raw: raw[:index] + bytes([value]) + raw[index + 1:])
        with pytest.raises(CorruptFileError):
            checkpoint.load(run)


def test_whitespace_that_keeps_the_json_content_is_still_a_change(saved):
    files, _, _ = saved
    mutate(files.sidecar, lambda raw: raw.replace(b'\n  "format"', b'\n\t"format"', 1))
    with pytest.raises(CorruptFileError, match="canonical spelling"):
        checkpoint.load(files.weights)


def test_an_edited_meta_value_breaks_the_seal(saved):
    files, _, _ = saved
    mutate(files.sidecar, lambda raw: raw.replace(b'"epoch": 3', b'"epoch": 4'))
    assert json.loads(files.sidecar.read_bytes())["meta"]["epoch"] == 4  # still valid JSON
    with pytest.raises(CorruptFileError, match="changed after it was written"):
        checkpoint.load(files.weights)


def edit_json(file: Path, edit) -> None:
    document = json.loads(file.read_bytes())
    edit(document)
    file.write_text(json.dumps(document))


@pytest.mark.parametrize("edit,words", [
    (lambda d: d.pop("weights"), ["weights (missing)"]),
    (lambda d: d.pop("meta"), ["meta (missing)"]),
    (lambda d: d.pop("sidecar_sha256"), ["sidecar_sha256 (missing)"]),
    (lambda d: d["weights"].pop("sha256"), ["weights.sha256 (missing)"]),
    (lambda d: d["weights"].update(bytes="12"), ["weights.bytes (str, expected int)"]),
    (lambda d: d.update(meta=[1]), ["meta (list, expected dict)"]),
    (lambda d: d.update(format_version=2), ["expected format 'lossgrad.checkpoint' version 1",
                                            "got 'lossgrad.checkpoint' version 2"]),
    (lambda d: d.update(format="other"), ["got 'other'"]),
])
def test_a_sidecar_without_its_fields_is_corrupt(saved, edit, words):
    files, _, _ = saved
    edit_json(files.sidecar, edit)
    with pytest.raises(CorruptFileError) as raised:
        checkpoint.load(files.weights)
    for word in [str(files.sidecar), *words]:
        assert word in str(raised.value)


@pytest.mark.parametrize("content", [b"", b"{", b"[1, 2]", b"\xff\xfe{}", b"[" * 100_000,
                                     b'{"a": NaN}'])
def test_a_sidecar_that_is_not_a_json_object_is_corrupt(saved, content):
    files, _, _ = saved
    files.sidecar.write_bytes(content)
    with pytest.raises(CorruptFileError, match=r"sidecar|JSON"):
        checkpoint.load(files.weights)


def test_new_weights_beside_an_old_sidecar_are_caught(tmp_path):
    tensors, meta = state()
    files = checkpoint.save(tmp_path, tensors, meta)
    old_sidecar = files.sidecar.read_bytes()
    old_weights = files.weights.read_bytes()
    checkpoint.save(tmp_path, {name: value + 1 for name, value in tensors.items()}, meta)
    assert files.weights.stat().st_size == len(old_weights)  # only the hash can tell them apart
    new_sidecar = files.sidecar.read_bytes()
    files.sidecar.write_bytes(old_sidecar)
    with pytest.raises(CorruptFileError, match=r"sha256.*two saves"):
        checkpoint.load(tmp_path)
    files.sidecar.write_bytes(new_sidecar)
    files.weights.write_bytes(old_weights)
    with pytest.raises(CorruptFileError, match=r"sha256.*two saves"):
        checkpoint.load(tmp_path)


@given(st.binary(max_size=512), st.sampled_from(["weights", "sidecar", "both"]))
def test_random_bytes_in_place_of_a_file_are_corrupt(noise, part):
    with tempfile.TemporaryDirectory() as run:
        files = checkpoint.save(run, *state())
        for name in ("weights", "sidecar") if part == "both" else (part,):
            getattr(files, name).write_bytes(noise)
        with pytest.raises(CorruptFileError):
            checkpoint.load(run)


def sealed_around(monkeypatch, run: str, data: bytes) -> None:
    """A checkpoint whose sidecar truly vouches for ``data`` as the weights file."""
    monkeypatch.setattr(safetensors.numpy, "save", lambda tensors: data)
    checkpoint.save(run, {})
    monkeypatch.undo()


@given(st.binary(max_size=512))
def test_random_weights_the_sidecar_vouches_for_are_parsed_safely(noise):
    with tempfile.TemporaryDirectory() as run, pytest.MonkeyPatch.context() as monkeypatch:
        sealed_around(monkeypatch, run, noise)
        try:
            expected = safetensors.numpy.load(noise)
        except Exception:  # whatever safetensors refuses, lossgrad must report as corrupt
            with pytest.raises(CorruptFileError, match="safetensors"):
                checkpoint.load(run)
        else:
            assert_bit_exact(checkpoint.load(run)[0], expected)


@pytest.mark.parametrize("header", [
    {"x": {"dtype": "F64", "shape": [10 ** 12], "data_offsets": [0, 8 * 10 ** 12]}},
    {"x": {"dtype": "F64", "shape": [2 ** 62, 2 ** 62], "data_offsets": [0, 8]}},
    {"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}},
])
def test_a_header_naming_absent_bytes_or_a_foreign_dtype_is_corrupt(monkeypatch, tmp_path, header):
    text = json.dumps(header).encode()
    data = len(text).to_bytes(8, "little") + text + bytes(8)
    sealed_around(monkeypatch, str(tmp_path), data)
    with pytest.raises(CorruptFileError, match="safetensors"):
        checkpoint.load(tmp_path)


# ---------------------------------------------------------------------------------------------
# no pickle


class Tripwire:
    """Unpickling this creates a file: its absence proves the pickle was never loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


@pytest.mark.parametrize("name", ["model.pkl", "model.pt", "model", "model.bin"])
def test_a_pickle_is_refused_unread(tmp_path, name):
    marker = tmp_path / "unpickled"
    (tmp_path / name).write_bytes(pickle.dumps(Tripwire(marker), protocol=4))
    with pytest.raises(UnsafeFileError, match=r"pickle.*never unpickles"):
        checkpoint.load(tmp_path / name)
    assert not marker.exists()


def test_a_pickle_in_place_of_the_weights_is_never_unpickled(saved, tmp_path):
    files, _, _ = saved
    marker = tmp_path / "unpickled"
    files.weights.write_bytes(pickle.dumps(Tripwire(marker), protocol=2))
    with pytest.raises(CorruptFileError):
        checkpoint.load(files.weights)
    assert not marker.exists()


@pytest.mark.parametrize("zipped", [True, False])
def test_a_pytorch_file_is_refused_unread(tmp_path, zipped):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(UnsafeFileError, match=r"PyTorch|pickle"):
        checkpoint.load(path)


def test_numpy_files_of_object_arrays_are_refused_unread(tmp_path):
    objects = np.array([{"a": 1}, None], dtype=object)
    np.save(tmp_path / "objects.npy", objects, allow_pickle=True)
    np.savez(tmp_path / "objects.npz", numbers=np.zeros(2), objects=objects)
    with pytest.raises(UnsafeFileError, match=r"\.npy of object arrays"):
        checkpoint.load(tmp_path / "objects.npy")
    with pytest.raises(UnsafeFileError, match=r"\.npz holding object arrays"):
        checkpoint.load(tmp_path / "objects.npz")


def test_numeric_numpy_files_are_not_checkpoints(tmp_path):
    np.save(tmp_path / "numbers.npy", np.zeros(2))
    np.savez(tmp_path / "numbers.npz", a=np.zeros(2))
    for name in ("numbers.npy", "numbers.npz"):
        with pytest.raises(OptionError) as raised:
            checkpoint.load(tmp_path / name)
        assert not isinstance(raised.value, CorruptFileError)


# ---------------------------------------------------------------------------------------------
# atomic saves


def fail_on(monkeypatch, name: str, *calls: int, error: BaseException | None = None) -> None:
    """Make these calls of ``os.<name>`` raise (default: disk full); a write first writes half."""
    real = getattr(os, name)
    count = itertools.count(1)

    def fake(*args, **kwargs):
        if next(count) in calls:
            if name == "write":
                real(args[0], bytes(args[1])[:len(args[1]) // 2])
            raise error or OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


#: os function, its call number, and the stage of save() that call is.
STAGES = [("open", 1, "create the weights' temp file"), ("write", 1, "write the weights"),
          ("fsync", 1, "fsync the weights"), ("open", 2, "create the sidecar's temp file"),
          ("write", 2, "write the sidecar"), ("fsync", 2, "fsync the sidecar"),
          ("replace", 1, "replace the weights"), ("replace", 2, "replace the sidecar")]


@pytest.mark.parametrize("name,call,stage", STAGES, ids=[s[2] for s in STAGES])
def test_a_failed_save_leaves_the_previous_checkpoint(monkeypatch, saved, name, call, stage):
    files, tensors, meta = saved
    before = sorted(files.weights.parent.iterdir())
    fail_on(monkeypatch, name, call)
    with pytest.raises(OSError) as raised:
        checkpoint.save(files.weights, {"fc.weight": np.ones((5, 5))}, {"epoch": 4})
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    assert sorted(files.weights.parent.iterdir()) == before  # no *.tmp left
    got, got_meta = checkpoint.load(files.weights)
    assert_bit_exact(got, tensors)
    assert got_meta == meta


@pytest.mark.parametrize("name,call,stage", STAGES, ids=[s[2] for s in STAGES])
def test_a_failed_first_save_leaves_nothing(monkeypatch, tmp_path, name, call, stage):
    fail_on(monkeypatch, name, call)
    with pytest.raises(OSError) as raised:
        checkpoint.save(tmp_path, *state())
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_while_committing_rolls_back(monkeypatch, saved):
    files, tensors, _ = saved
    fail_on(monkeypatch, "replace", 2, error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(files.weights, {"w": np.ones(3)})
    monkeypatch.undo()
    assert sorted(p.name for p in files.weights.parent.iterdir()) == ["model.json",
                                                                       "model.safetensors"]
    assert_bit_exact(checkpoint.load(files.weights)[0], tensors)


def test_without_hard_links_the_previous_weights_are_copied_for_the_rollback(monkeypatch, saved):
    files, tensors, _ = saved
    fail_on(monkeypatch, "link", 1, error=OSError(errno.EPERM, "no hard links here"))
    fail_on(monkeypatch, "replace", 2)
    with pytest.raises(OSError):
        checkpoint.save(files.weights, {"w": np.ones(3)})
    monkeypatch.undo()
    assert_bit_exact(checkpoint.load(files.weights)[0], tensors)
    fail_on(monkeypatch, "link", 1, error=OSError(errno.EPERM, "no hard links here"))
    checkpoint.save(files.weights, {"w": np.ones(3)})
    assert_bit_exact(checkpoint.load(files.weights)[0], {"w": np.ones(3)})
    assert len(list(files.weights.parent.iterdir())) == 2


def test_a_failed_rollback_is_detectable_not_silent(monkeypatch, saved):
    files, _, _ = saved
    fail_on(monkeypatch, "replace", 2, 3)  # the sidecar's replace, then the rollback's
    with pytest.raises(OSError):
        checkpoint.save(files.weights, {"w": np.ones(3)})
    monkeypatch.undo()
    with pytest.raises(CorruptFileError, match=r"sha256|bytes"):
        checkpoint.load(files.weights)


def test_short_writes_are_completed(monkeypatch, tmp_path):
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:7])))
    tensors, meta = state()
    checkpoint.save(tmp_path, tensors, meta)
    monkeypatch.undo()
    got, got_meta = checkpoint.load(tmp_path)
    assert_bit_exact(got, tensors)
    assert got_meta == meta


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_checkpoint_files_get_the_usual_permissions(saved, tmp_path):
    files, _, _ = saved
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


# ---------------------------------------------------------------------------------------------
# readers racing a writer


def test_readers_racing_a_writer_never_get_a_mixed_pair(tmp_path):
    def version(k: int) -> dict:
        return {"w": np.full(256, k, np.int64), "b": np.full(3, -k, np.int64)}

    checkpoint.save(tmp_path, version(0), {"k": 0})
    done = threading.Event()
    seen, errors = [], []

    def read():
        while not done.is_set():
            try:
                tensors, meta = checkpoint.load(tmp_path)
            except CorruptFileError as error:  # new weights beside the old sidecar: detected
                seen.append(("corrupt", str(error)))
            except BaseException as error:  # reported by the main thread below
                errors.append(error)
            else:
                seen.append(("ok", meta["k"], tensors))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for k in range(1, 40):
        checkpoint.save(tmp_path, version(k), {"k": k})
    done.set()
    for reader in readers:
        reader.join()
    assert errors == []
    loaded = [entry for entry in seen if entry[0] == "ok"]
    assert loaded
    for _, k, tensors in loaded:
        assert_bit_exact(tensors, version(k))
    for entry in seen:
        if entry[0] == "corrupt":
            assert "sha256" in entry[1] or "bytes" in entry[1]


# ---------------------------------------------------------------------------------------------
# check_state


def test_check_state_is_silent_when_everything_fits(saved):
    files, tensors, _ = saved
    loaded, _ = checkpoint.load(files.weights)
    checkpoint.check_state(tensors, loaded)
    checkpoint.check_state({name: (value.shape, value.dtype.name) for name, value in
                            tensors.items()}, loaded)
    checkpoint.check_state({"w": [[2, 3], np.float32]}, {"w": np.zeros((2, 3), np.float32)})


def test_check_state_lists_every_problem_in_one_error():
    expected = {"fc.weight": ((3, 4), "float32"), "fc.bias": ((3,), "float32"),
                "conv.weight": ((8, 1, 3, 3), "float32"), "step": ((), "int64"),
                "scale": ((1,), "float32")}
    got = {"fc.weight": np.zeros((4, 3), np.float32), "fc.bias": np.zeros(3, np.float64),
           "step": np.array(1, np.int64), "scale": np.array(1.0, np.float32),
           "fc.b": np.zeros(3, np.float32), "extra": np.zeros(1, np.uint8)}
    diff = checkpoint.compare_state(expected, got)
    assert diff.missing == ["conv.weight"]
    assert diff.unexpected == ["fc.b", "extra"]
    assert diff.wrong_shape == [("fc.weight", (3, 4), (4, 3)), ("scale", (1,), ())]
    assert diff.wrong_dtype == [("fc.bias", np.dtype("float32"), np.dtype("float64"))]
    assert not diff.fits
    with pytest.raises(ShapeError) as raised:
        checkpoint.check_state(expected, got)
    message = str(raised.value)
    for part in ["missing 1 key ('conv.weight')", "unexpected 2 keys ('fc.b', 'extra')",
                 "'fc.weight' has shape (4, 3), expected (3, 4)",
                 "'scale' has shape (), expected (1,)",
                 "'fc.bias' has dtype float64, expected float32"]:
        assert part in message
    assert "\n" not in message


@pytest.mark.parametrize("entry", [3, "float32", ((2, 3), "floaty"), ("2x3", np.float32),
                                   ((2, 3), "float32", "C")])
def test_check_state_refuses_an_entry_that_is_no_signature(entry):
    with pytest.raises(DTypeError, match=r"expected\['w'\]"):
        checkpoint.check_state({"w": entry}, {"w": np.zeros((2, 3), np.float32)})

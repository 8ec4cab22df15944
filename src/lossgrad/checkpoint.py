"""Checkpoints: tensors in safetensors, metadata in a JSON sidecar, written atomically, read safely.

A checkpoint is two files with one stem::

    model.safetensors   the tensors, in the format PyTorch, JAX and the Hugging Face tools read
    model.json          the sidecar: the caller's metadata, the format and lossgrad versions, the
                        size and sha256 of model.safetensors, and the sha256 of the sidecar itself

:func:`resolve` maps a path to the pair: ``model.safetensors`` or ``model.json`` names the pair
``model.*``; a folder, or a path without a suffix, is a *run folder* whose checkpoint is
``checkpoint.safetensors`` + ``checkpoint.json`` inside it.

Saving writes each file to a temporary ``*.tmp`` file in the same folder, fsyncs it and moves it
into place with :func:`os.replace`, the sidecar last: the sidecar commits the pair. If anything
fails before the sidecar is in place, the previous weights are put back, so the previous checkpoint
still loads and no temporary file is left. A reader that races a writer may find new weights beside
the old sidecar; the sha256 makes that a :class:`~lossgrad.errors.CorruptFileError`, never a silent
mix.

Loading never unpickles. A flipped, missing or extra byte in either file raises
:class:`~lossgrad.errors.CorruptFileError`; a pickle handed to :func:`load` (a PyTorch ``.pt``, a
``.npy``/``.npz`` of object arrays) raises :class:`~lossgrad.errors.UnsafeFileError` unread.

Example:

>>> import tempfile
>>> import numpy as np
>>> with tempfile.TemporaryDirectory() as run:
...     _ = save(run, {"fc.weight": np.eye(2, dtype=np.float32)}, {"epoch": 3})
...     tensors, meta = load(run)
>>> tensors["fc.weight"].dtype, meta
(dtype('float32'), {'epoch': 3})
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import secrets
import shutil
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import safetensors
import safetensors.numpy

from .errors import (
    CorruptFileError,
    DomainError,
    DTypeError,
    OptionError,
    ShapeError,
    UnsafeFileError,
)

FORMAT = "lossgrad.checkpoint"
FORMAT_VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
SIDECAR_SUFFIX = ".json"
#: The stem of the checkpoint inside a run folder.
RUN_STEM = "checkpoint"
#: The dtypes that round-trip bit-exactly through safetensors' NumPy API.
DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
          "float16", "float32", "float64", "complex64")
#: The sidecar's fields and their JSON types; "weights" describes the .safetensors file.
SIDECAR_FIELDS = {"format": str, "format_version": int, "lossgrad_version": str, "meta": dict,
                  "weights": dict, "sidecar_sha256": str}
WEIGHTS_FIELDS = {"bytes": int, "sha256": str}
NO_PICKLE = ("lossgrad never unpickles, because loading a pickle can run any code; "
             "save the arrays with safetensors (or np.save of numeric arrays) in the program that "
             "wrote it")


class CheckpointFiles(NamedTuple):
    """The two files of a checkpoint: the tensors and the sidecar that commits them."""

    weights: Path
    sidecar: Path


# ---------------------------------------------------------------------------------------------
# paths


def resolve(path: str | os.PathLike) -> CheckpointFiles:
    """The checkpoint files a path names.

    ``model.safetensors`` or ``model.json`` → the pair ``model.safetensors`` + ``model.json``; an
    existing folder, or a path without a suffix (a run folder :func:`save` creates) →
    ``<folder>/checkpoint.safetensors`` + ``<folder>/checkpoint.json``. Anything else raises
    OptionError.
    """
    path = Path(path)
    if path.is_dir() or (path.suffix == "" and not path.exists()):
        path = path / (RUN_STEM + WEIGHTS_SUFFIX)
    if path.suffix not in (WEIGHTS_SUFFIX, SIDECAR_SUFFIX):
        raise OptionError(
            f"path: expected a {WEIGHTS_SUFFIX} file, its {SIDECAR_SUFFIX} sidecar or a run "
            f"folder, got {str(path)!r}; name the checkpoint model{WEIGHTS_SUFFIX} or pass its "
            "folder"
        )
    return CheckpointFiles(path.with_suffix(WEIGHTS_SUFFIX), path.with_suffix(SIDECAR_SUFFIX))


# ---------------------------------------------------------------------------------------------
# saving


def save(path: str | os.PathLike, tensors: Mapping[str, np.ndarray],
         meta: Mapping[str, Any] | None = None) -> CheckpointFiles:
    """Write ``tensors`` and ``meta`` as a checkpoint, atomically; return the two files written.

    ``tensors`` maps free-form names ("conv1.weight", "optimizer/state/0/exp_avg") to NumPy arrays
    (or NumPy scalars, stored as 0-d arrays) of a dtype in :data:`DTYPES`; any layout is accepted
    and stored C-ordered. ``meta`` holds JSON values (dict with str keys, list, str, int, finite
    float, bool, None); tuples are stored as lists and NumPy scalars as Python numbers, as
    :func:`load` will return them. Missing folders are created. On any failure the previous
    checkpoint at ``path`` is left as it was. One writer at a time per checkpoint; readers may run
    alongside (see the module docstring).
    """
    files = resolve(path)
    meta = {} if meta is None else meta
    if not isinstance(meta, Mapping):
        raise DTypeError(f"meta: expected a dict of JSON values, got {type(meta).__name__}; "
                         "pass a dict such as {'epoch': 3}")
    weights = safetensors.numpy.save(_storable(tensors))
    sidecar = _sidecar(_json_ready(meta, "meta"), weights)
    files.weights.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        weights_tmp = _staged(files.weights, weights, cleanup)
        sidecar_tmp = _staged(files.sidecar, sidecar, cleanup)
        previous = _second_name(files.weights, cleanup)
        os.replace(weights_tmp, files.weights)
        try:
            os.replace(sidecar_tmp, files.sidecar)
        except BaseException:
            _put_back(previous, files.weights)
            raise
    _sync_folder(files.weights.parent)
    return files


def _storable(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tensors as safetensors can take them, or a typed error naming the first bad entry."""
    if not isinstance(tensors, Mapping):
        raise DTypeError(f"tensors: expected a dict of name → NumPy array, got "
                         f"{type(tensors).__name__}; pass model.state_dict() or a dict of arrays")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise DTypeError(f"tensors: names must be str, got {name!r} ({type(name).__name__}); "
                             "use str(name)")
        if name == "__metadata__":
            raise OptionError("tensors: the name '__metadata__' is reserved by safetensors for "
                              "its header; rename the tensor")
        if isinstance(value, np.generic):  # 0-d arithmetic gives scalars: store them as 0-d arrays
            value = np.asarray(value)
        if not isinstance(value, np.ndarray):
            raise DTypeError(f"tensors[{name!r}]: expected a NumPy array, got "
                             f"{type(value).__name__}; convert it with np.asarray")
        if value.dtype.name not in DTYPES:
            raise DTypeError(f"tensors[{name!r}]: dtype {value.dtype} cannot be stored; expected "
                             f"one of {', '.join(DTYPES)}; cast it (bfloat16 → float32)")
        # safetensors copies the raw buffer: a transposed or strided view would be saved scrambled.
        arrays[name] = np.require(value, requirements="C")
    return arrays


def _json_ready(value: Any, where: str) -> Any:
    """``value`` as JSON gives it back, or a typed error naming the first value JSON cannot hold."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise DTypeError(f"{where}: JSON keys are strings, got the key {key!r} "
                                 f"({type(key).__name__}); use str keys")
        return {key: _json_ready(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise DomainError(f"{where}: JSON has no {value}; store None or a string instead")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise DTypeError(f"{where}: JSON cannot hold a {type(value).__name__}; meta takes dict, list, "
                     "str, int, float, bool and None (put arrays in tensors)")


def _canonical(document: Mapping[str, Any]) -> bytes:
    # One spelling per content (sorted keys, ASCII, fixed indent): any changed byte is detectable.
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False)
    return (text + "\n").encode("ascii")


def _sidecar(meta: dict, weights: bytes) -> bytes:
    """The sidecar's bytes: meta, versions, the weights' size and hash, sealed by its own hash."""
    from . import __version__  # at call time: the package may import this module before setting it

    body = {"format": FORMAT, "format_version": FORMAT_VERSION, "lossgrad_version": __version__,
            "meta": meta,
            "weights": {"bytes": len(weights), "sha256": hashlib.sha256(weights).hexdigest()}}
    return _canonical({**body, "sidecar_sha256": hashlib.sha256(_canonical(body)).hexdigest()})


def _temp_name(target: Path) -> Path:
    return target.with_name(f"{target.name}.{secrets.token_hex(8)}.tmp")


def _staged(target: Path, data: bytes, cleanup: ExitStack) -> Path:
    """``data`` written and fsynced to a new temporary file beside ``target`` (removed at exit)."""
    temp = _temp_name(target)
    # os.open (not tempfile.mkstemp, which makes the file 0600) so the checkpoint gets the umask's
    # usual permissions; O_BINARY keeps Windows from translating newlines.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    cleanup.callback(temp.unlink, missing_ok=True)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    return temp


def _second_name(target: Path, cleanup: ExitStack) -> Path | None:
    """A second name for the current ``target`` (None if there is none), removed at exit."""
    if not target.exists():
        return None
    backup = _temp_name(target)
    cleanup.callback(backup.unlink, missing_ok=True)
    try:
        os.link(target, backup)
    except OSError:  # a file system without hard links (FAT, some network mounts)
        shutil.copyfile(target, backup)
    return backup


def _put_back(previous: Path | None, target: Path) -> None:
    """Undo the replacement of ``target``: its previous version back, or no file if it had none."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        os.replace(previous, target)


def _sync_folder(folder: Path) -> None:
    # A rename is durable only once the folder itself is on disk. Windows cannot open a folder.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# loading


def load(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint: (tensors, meta) exactly as :func:`save` was given them.

    ``path`` is anything :func:`resolve` takes. The arrays are writable, C-ordered and in native
    byte order; tuples in meta come back as lists. Raises FileNotFoundError naming a missing file,
    CorruptFileError naming the file and what was expected and found when a byte does not match,
    and UnsafeFileError (unread) for a pickle, a PyTorch file or object arrays.
    """
    try:
        files = resolve(path)
    except OptionError:
        _refuse_pickle(Path(path))
        raise
    _require(files)
    sidecar = _read_sidecar(files.sidecar)
    data = _read_weights(files.weights, sidecar["weights"])
    try:
        tensors = safetensors.numpy.load(data)
    except (safetensors.SafetensorError, KeyError) as error:  # KeyError: a dtype NumPy lacks
        raise CorruptFileError(
            f"{files.weights}: expected a safetensors file of NumPy dtypes, got one safetensors "
            f"cannot read ({error!r}); save the checkpoint again") from None
    return tensors, sidecar["meta"]


def _require(files: CheckpointFiles) -> None:
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        raise FileNotFoundError(
            errno.ENOENT, f"checkpoint file not found: {' and '.join(missing)} (a checkpoint is "
            f"the pair {files.weights.name} + {files.sidecar.name}; save() writes both)",
            missing[0])


def _read_sidecar(file: Path) -> dict[str, Any]:
    """The sidecar's content once its JSON, fields, format and seal have been checked."""
    raw = file.read_bytes()
    try:
        document = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CorruptFileError(f"{file}: expected the JSON sidecar of a checkpoint, got bytes that "
                               f"are not ASCII JSON ({type(error).__name__}: {error}); the file is "
                               "damaged: save the checkpoint again") from None
    _check_fields(file, document, SIDECAR_FIELDS, "")
    _check_fields(file, document["weights"], WEIGHTS_FIELDS, "weights.")
    if (document["format"], document["format_version"]) != (FORMAT, FORMAT_VERSION):
        raise CorruptFileError(
            f"{file}: expected format {FORMAT!r} version {FORMAT_VERSION}, got "
            f"{document['format']!r} version {document['format_version']} (written by lossgrad "
            f"{document['lossgrad_version']}); read it with that lossgrad version")
    _check_seal(file, raw, document)
    return document


def _check_fields(file: Path, document: Any, fields: Mapping[str, type], prefix: str) -> None:
    if not isinstance(document, dict):
        raise CorruptFileError(f"{file}: expected a JSON object at {prefix or 'the top'!r}, got "
                               f"{type(document).__name__}; save the checkpoint again")
    wrong = [f"{prefix}{name} (missing)" if name not in document else
             f"{prefix}{name} ({type(document[name]).__name__}, expected {kind.__name__})"
             for name, kind in fields.items()
             if name not in document or type(document[name]) is not kind]
    if wrong:
        raise CorruptFileError(f"{file}: the sidecar lacks or mistypes {', '.join(wrong)}; "
                               "save the checkpoint again")


def _check_seal(file: Path, raw: bytes, document: dict[str, Any]) -> None:
    body = {name: value for name, value in document.items() if name != "sidecar_sha256"}
    try:
        got = hashlib.sha256(_canonical(body)).hexdigest()
        canonical = _canonical(document) == raw
    except (ValueError, RecursionError):  # NaN, ±Infinity or deep nesting: save() writes none
        got, canonical = "(content JSON cannot hold)", False
    if got != document["sidecar_sha256"] or not canonical:
        raise CorruptFileError(
            f"{file}: the sidecar was changed after it was written: expected sha256 "
            f"{document['sidecar_sha256']} (its seal) and the canonical spelling, got sha256 {got}"
            f"{'' if canonical else ' and other bytes'}; save the checkpoint again")


def _read_weights(file: Path, expected: Mapping[str, Any]) -> bytes:
    """The weights file's bytes, once their size and sha256 match the sidecar's."""
    with open(file, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size != expected["bytes"]:  # checked before reading, so a huge file is never allocated
            raise CorruptFileError(
                f"{file}: expected {expected['bytes']} bytes (from the sidecar), got {size}: the "
                "file is truncated or extended, or belongs to another save; save it again")
        data = stream.read()
    got = hashlib.sha256(data).hexdigest()
    if got != expected["sha256"]:
        raise CorruptFileError(
            f"{file}: expected sha256 {expected['sha256']} (from the sidecar), got {got}: a byte "
            "changed, or the file and its sidecar come from two saves; save the checkpoint again")
    return data


# ---------------------------------------------------------------------------------------------
# files that need pickle


def _refuse_pickle(path: Path) -> None:
    """Raise UnsafeFileError if ``path`` is a file only pickle could read; never unpickle it."""
    if not path.is_file():
        return
    with open(path, "rb") as stream:
        head = stream.read(2)
    # Pickle protocols 2 to 5 open with the PROTO opcode; PyTorch's legacy format is such a pickle.
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        found = "a Python pickle"
    elif zipfile.is_zipfile(path):
        found = _pickle_in_zip(path)
    else:
        with open(path, "rb") as stream:
            found = "a .npy of object arrays" if _npy_has_objects(stream) else None
    if found:
        raise UnsafeFileError(f"{path}: expected a lossgrad checkpoint, got {found}; {NO_PICKLE}")


def _pickle_in_zip(path: Path) -> str | None:
    """What needs pickle in a zip (a PyTorch ``.pt``, a ``.npz``), judged from names and headers."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                if member.filename.endswith(".pkl"):
                    return "a PyTorch file (a zip holding a pickle)"
                if member.filename.endswith(".npy"):
                    with archive.open(member) as stream:
                        if _npy_has_objects(stream):
                            return "a .npz holding object arrays"
    except (zipfile.BadZipFile, OSError):
        return None
    return None


def _npy_has_objects(stream) -> bool:
    """Whether a ``.npy`` header declares an object dtype; reads the header only (no pickle)."""
    try:
        major, _ = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        _, _, dtype = read_header(stream)
    except ValueError:
        return False
    return dtype.hasobject


# ---------------------------------------------------------------------------------------------
# comparing states


@dataclass(frozen=True)
class StateDiff:
    """How a state (name → array) differs from the one expected; empty lists when it fits.

    ``wrong_shape`` and ``wrong_dtype`` hold (name, expected, got) triples.
    """

    missing: list[str]
    unexpected: list[str]
    wrong_shape: list[tuple[str, tuple, tuple]]
    wrong_dtype: list[tuple[str, np.dtype, np.dtype]]

    @property
    def fits(self) -> bool:
        """True when nothing is missing, unexpected or of another shape or dtype."""
        return not (self.missing or self.unexpected or self.wrong_shape or self.wrong_dtype)

    def describe(self) -> str:
        """Every difference, in one line."""
        parts = [f"missing {_names(self.missing)}" if self.missing else "",
                 f"unexpected {_names(self.unexpected)}" if self.unexpected else "",
                 *(f"{name!r} has shape {got}, expected {want}" for name, want, got in
                   self.wrong_shape),
                 *(f"{name!r} has dtype {got}, expected {want}" for name, want, got in
                   self.wrong_dtype)]
        return "; ".join(part for part in parts if part)


def compare_state(expected: Mapping[str, Any], got: Mapping[str, Any]) -> StateDiff:
    """The differences between ``got`` and ``expected`` (see :func:`check_state` for the forms)."""
    want = {name: _signature(value, f"expected[{name!r}]") for name, value in expected.items()}
    have = {name: _signature(value, f"got[{name!r}]") for name, value in got.items()}
    both = [name for name in want if name in have]
    return StateDiff(
        missing=[name for name in want if name not in have],
        unexpected=[name for name in have if name not in want],
        wrong_shape=[(name, want[name][0], have[name][0]) for name in both
                     if want[name][0] != have[name][0]],
        wrong_dtype=[(name, want[name][1], have[name][1]) for name in both
                     if want[name][1] != have[name][1]])


def check_state(expected: Mapping[str, Any], got: Mapping[str, Any]) -> None:
    """Raise one ShapeError listing every missing, unexpected, mis-shaped and mis-typed name.

    ``expected`` maps each name to an array (its shape and dtype count) or to a (shape, dtype)
    pair; ``got`` maps names to arrays (or such pairs). Silent when every name fits.
    """
    diff = compare_state(expected, got)
    if not diff.fits:
        raise ShapeError(f"the state does not fit: {diff.describe()}; load a checkpoint of the "
                         "same architecture, or rename, reshape or cast its entries first")


def _signature(value: Any, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of an array, or of a (shape, dtype) pair."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        shape, dtype = value.shape, value.dtype
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        shape, dtype = value
    else:
        raise DTypeError(f"{where}: expected an array or a (shape, dtype) pair, got "
                         f"{type(value).__name__}")
    try:
        return tuple(int(n) for n in shape), np.dtype(dtype)
    except (TypeError, ValueError):
        raise DTypeError(f"{where}: expected a (shape, dtype) pair, got ({shape!r}, {dtype!r}); "
                         "give a tuple of ints and a NumPy dtype") from None


def _names(names: list[str]) -> str:
    return f"{len(names)} key{'s' if len(names) > 1 else ''} ({', '.join(map(repr, names))})"

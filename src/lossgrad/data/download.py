"""Downloading a file into the cache, checked against its SHA-256 before anything keeps it.

The file is streamed into a temporary file in the destination folder, hashed on the way, flushed
to disk and moved into place with ``os.replace`` only when the hash matches; on a wrong hash or any
error the temporary file is removed, so the folder never holds a partial or unverified file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from ..errors import CorruptFileError, OptionError

_CHUNK = 1 << 20
_TIMEOUT = 60  # seconds without data before urllib gives up
_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_cache_dir() -> Path:
    """Where downloads go: ``$LOSSGRAD_CACHE`` if set, else ``~/.cache/lossgrad``."""
    return Path(os.environ.get("LOSSGRAD_CACHE") or Path.home() / ".cache" / "lossgrad")


def fetch(url: str, sha256: str, cache_dir=None) -> Path:
    """The path of ``url``'s file in ``cache_dir``, downloaded unless a copy matching ``sha256`` is
    there.

    ``cache_dir`` defaults to :func:`default_cache_dir`. Only http and https URLs are taken. A
    download whose SHA-256 differs raises CorruptFileError naming both hashes and keeps nothing; an
    existing file with the wrong hash is replaced only by a download that matches.
    """
    expected = sha256.lower() if isinstance(sha256, str) else sha256
    if not isinstance(expected, str) or not _SHA256.fullmatch(expected):
        raise OptionError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / _file_name(url)
    if target.is_file() and _sha256_of(target) == expected:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".part",
                                       delete=False)
    try:
        with part:
            got = _download(url, part)
        if got != expected:
            raise CorruptFileError(
                f"{url}: the download's SHA-256 is {got}, expected {expected}; nothing was "
                "saved — retry, and if it persists the file has changed at its source"
            )
        os.replace(part.name, target)
    except BaseException:
        os.unlink(part.name)
        raise
    return target


def _file_name(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    name = PurePosixPath(urllib.parse.unquote(parsed.path)).name
    if parsed.scheme not in ("http", "https") or not name:
        raise OptionError(f"url must be an http(s) URL ending in a file name, got {url!r}")
    return name


def _download(url: str, out) -> str:
    """Stream ``url`` into the open file ``out``, flush it to disk; return the SHA-256 (hex)."""
    with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
        got = _hash(response, out)
    out.flush()
    os.fsync(out.fileno())
    return got


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return _hash(f)


def _hash(source, copy_to=None) -> str:
    """SHA-256 (hex) of everything ``source`` yields, copied to ``copy_to`` on the way if given."""
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest()

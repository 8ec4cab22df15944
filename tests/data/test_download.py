"""fetch: a local HTTP server (127.0.0.1, a thread), the cache folder, SHA-256 checks, atomic
writes that leave nothing behind on any failure."""

from __future__ import annotations

import hashlib
import os
import urllib.error

import pytest

from lossgrad.data import default_cache_dir, fetch
from lossgrad.errors import CorruptFileError, OptionError
from tests.data.conftest import SHORT_BODY

PAYLOAD = bytes(range(256)) * 40
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def serve(server, data=PAYLOAD):
    """The base URL of the server, with ``data`` at data.bin."""
    root, base, _ = server
    (root / "data.bin").write_bytes(data)
    return base


def test_download_into_the_cache_and_reuse_it(server, tmp_path):
    base, requests = serve(server), server[2]
    cache = tmp_path / "cache" / "nested"
    path = fetch(base + "data.bin", DIGEST, cache)
    assert path == cache / "data.bin" and path.read_bytes() == PAYLOAD
    assert fetch(base + "data.bin", DIGEST.upper(), cache) == path
    assert requests == ["/data.bin"]
    assert os.listdir(cache) == ["data.bin"]


def test_cache_folder_from_the_environment_or_home(server, tmp_path, monkeypatch):
    base = serve(server)
    monkeypatch.setenv("LOSSGRAD_CACHE", str(tmp_path / "env"))
    assert fetch(base + "data.bin", DIGEST) == tmp_path / "env" / "data.bin"
    monkeypatch.delenv("LOSSGRAD_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "lossgrad"


def test_wrong_hash_names_both_and_keeps_nothing(server, tmp_path):
    base = serve(server)
    wrong = "0" * 64
    with pytest.raises(CorruptFileError) as err:
        fetch(base + "data.bin", wrong, tmp_path / "cache")
    assert DIGEST in str(err.value) and wrong in str(err.value)
    assert os.listdir(tmp_path / "cache") == []


def test_an_interrupted_transfer_is_caught_by_the_hash(server, tmp_path):
    base = server[1]
    with pytest.raises(CorruptFileError, match=hashlib.sha256(SHORT_BODY).hexdigest()):
        fetch(base + "short", DIGEST, tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_a_stale_file_is_replaced_only_by_a_verified_download(server, tmp_path):
    (root, _, requests), base = server, serve(server)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"stale")
    assert fetch(base + "data.bin", DIGEST, cache).read_bytes() == PAYLOAD
    (root / "data.bin").write_bytes(b"changed upstream")
    with pytest.raises(CorruptFileError):
        fetch(base + "data.bin", hashlib.sha256(b"other").hexdigest(), cache)
    assert (cache / "data.bin").read_bytes() == PAYLOAD and os.listdir(cache) == ["data.bin"]
    assert len(requests) == 2


def test_http_error_leaves_nothing(server, tmp_path):
    base = serve(server)
    with pytest.raises(urllib.error.HTTPError) as err:
        fetch(base + "missing.bin", DIGEST, tmp_path / "cache")
    err.value.close()
    assert os.listdir(tmp_path / "cache") == []


def test_a_failure_while_writing_leaves_nothing(server, tmp_path, monkeypatch):
    base = serve(server)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        fetch(base + "data.bin", DIGEST, tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


@pytest.mark.parametrize("sha", ["abc", "g" * 64, None, DIGEST + "0"])
def test_malformed_hash(tmp_path, sha):
    with pytest.raises(OptionError, match="64 hexadecimal digits"):
        fetch("http://127.0.0.1:9/x.bin", sha, tmp_path)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.bin",
                                 "http://127.0.0.1:9/"])
def test_only_http_urls_naming_a_file(tmp_path, url):
    with pytest.raises(OptionError, match="http"):
        fetch(url, DIGEST, tmp_path)

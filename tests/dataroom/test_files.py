"""The content-addressed file store: keys, atomic verified writes, names, byte ranges."""

from __future__ import annotations

import hashlib
import os

import pytest

from cityledger.dataroom.files import (
    HashMismatch,
    LocalFileStore,
    TooLarge,
    content_digest,
    key_of,
    parse_range,
    put_bytes,
    put_file,
    read_all,
    sanitise_name,
)
from cityledger.errors import CityLedgerError


def test_files_are_kept_under_their_sha256_split_after_two_digits(tmp_path):
    store = LocalFileStore(tmp_path / "files")
    data = b"a,b\n1,2\n"
    digest = hashlib.sha256(data).hexdigest()
    assert put_bytes(store, data) == "0x" + digest
    path = tmp_path / "files" / "sha256" / digest[:2] / digest[2:]
    assert path.read_bytes() == data and store.size(digest) == len(data)
    assert read_all(store, "0x" + digest) == data
    assert list(store.read(digest, 2, 5)) == [data[2:5]]
    assert os.listdir(tmp_path / "files" / "tmp") == []  # nothing left behind


def test_bytes_that_are_not_the_registered_ones_are_never_kept(tmp_path):
    store = LocalFileStore(tmp_path / "files")
    src = tmp_path / "data.csv"
    src.write_bytes(b"the real bytes")
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    with pytest.raises(HashMismatch, match="not the registered"):
        put_file(store, src, wrong)
    assert store.size(wrong) is None and os.listdir(tmp_path / "files" / "tmp") == []


def test_a_writer_over_its_limit_keeps_nothing(tmp_path):
    store = LocalFileStore(tmp_path / "files")
    data = b"x" * 100
    writer = store.writer(hashlib.sha256(data).digest(), max_bytes=99)
    with pytest.raises(TooLarge):
        writer.write(data)
    assert store.size(hashlib.sha256(data).hexdigest()) is None
    assert os.listdir(tmp_path / "files" / "tmp") == []


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "0x" + "g" * 64, "0x12", "ab/../" + "0" * 58, "0x" + "0" * 64 + "/x"]
)
def test_store_keys_are_hashes_only(tmp_path, bad):
    store = LocalFileStore(tmp_path / "files")
    with pytest.raises(CityLedgerError, match="not a SHA-256"):
        store.size(bad)
    with pytest.raises(CityLedgerError):
        key_of(bad)


def test_a_link_in_the_store_is_not_served(tmp_path):
    store = LocalFileStore(tmp_path / "files")
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    digest = hashlib.sha256(b"secret").hexdigest()
    path = store.path_of(digest)
    path.parent.mkdir(parents=True)
    path.symlink_to(secret)
    assert store.size(digest) is None
    with pytest.raises(OSError):
        list(store.read(digest))


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("visits.csv", "visits.csv"),
        ("../../etc/passwd", "passwd"),
        ('a"b\r\nSet-Cookie: x.csv', "a_b_Set-Cookie_x.csv"),
        ("C:\\Users\\x\\data.csv", "data.csv"),
        ("..", "dataset-1"),
        (".hidden", "hidden"),
        ("Ünïcodé données.csv", "Unicode_donnees.csv"),
        ("", "dataset-1"),
        ("x" * 300, "x" * 100),
    ],
)
def test_file_names_are_sanitised(name, safe):
    assert sanitise_name(name, "dataset-1") == safe


def test_content_digest_is_rfc_9530():
    assert content_digest("0x" + hashlib.sha256(b"").hexdigest()) == (
        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    )


@pytest.mark.parametrize(
    ("header", "want"),
    [
        (None, None),
        ("bytes=0-9", (0, 10)),
        ("bytes=5-", (5, 100)),
        ("bytes=-10", (90, 100)),
        ("bytes=90-500", (90, 100)),
        ("bytes=-500", (0, 100)),
    ],
)
def test_one_byte_range(header, want):
    got = parse_range(header, 100)
    assert (got.start, got.end) == want if want else got is None


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=a-b", "bytes=-0", "bytes=-"]
)
def test_bad_ranges_are_refused(header):
    with pytest.raises(ValueError):
        parse_range(header, 100)


def test_a_copy_out_of_a_store_that_fails_midway_leaves_no_partial_file(tmp_path):
    # An object store (no local path) that breaks after the first chunk: the release source's temporary
    # copy is removed, not left in the spool folder for every failed request.
    from cityledger.dataroom.delivery import _local_copy

    class Breaking:
        def read(self, sha256, start=0, end=None):
            yield b"subject,visits\n"
            raise ConnectionError("the object store went away")

    spool = tmp_path / "spool"
    with pytest.raises(ConnectionError, match="went away"):
        _local_copy(Breaking(), "ab" * 32, spool)
    assert list(spool.iterdir()) == []

"""The object store on both backends: canonical JSON, dedup, hash checks, and storage failures
in words an owner understands (never a secret)."""

from __future__ import annotations

import errno
import os
import subprocess
import traceback
from pathlib import Path

import pytest

from sites.snapshots import (
    CorruptObject,
    LocalBackend,
    ObjectNotFound,
    ObjectStore,
    S3Backend,
    StorageError,
    backend_for,
    canonical_json,
)
from sites.snapshots.backends import check_key
from sites.snapshots.objects import object_key
from tests.processes import free_port

from .conftest import damage, flip_byte


def test_canonical_json_is_sorted_compact_utf8_and_one_form_per_value():
    assert canonical_json({"b": 1, "a": [1.5, None, "é"]}) == '{"a":[1.5,null,"é"],"b":1}'.encode()
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    # A lone surrogate cannot be UTF-8: the escaped form is used, still deterministic.
    assert canonical_json({"x": "\ud800"}) == b'{"x":"\\ud800"}'


def test_an_object_is_stored_once_under_its_hash(store):
    first = store.put_json({"_id": "a", "name": "Candle"})
    again = store.put_json({"name": "Candle", "_id": "a"})
    assert first.new and not again.new and first.digest == again.digest
    assert store.written_objects == 1
    keys = [obj.key for obj in store.backend.list("objects/")]
    assert keys == [f"objects/{first.digest[:2]}/{first.digest}"]
    assert store.get_json(first.digest) == {"_id": "a", "name": "Candle"}
    assert first.stored == store.written_bytes > 0


def test_a_flipped_byte_is_caught_naming_the_object(store):
    put = store.put_json({"_id": "a", "text": "x" * 500})
    key = object_key(put.digest)
    damage(store, key, flip_byte)
    with pytest.raises(CorruptObject) as caught:
        store.get_json(put.digest)
    assert caught.value.key == key and key in str(caught.value)


def test_content_swapped_for_another_valid_object_fails_the_hash(store):
    put = store.put_json({"_id": "a"})
    other = store.put_json({"_id": "b"})
    damage(store, object_key(put.digest), lambda _: store.backend.get(object_key(other.digest)))
    with pytest.raises(CorruptObject, match="does not match its hash"):
        store.get_canonical(put.digest)


def test_garbage_and_empty_objects_do_not_decode(store):
    put = store.put_json({"_id": "a"})
    damage(store, object_key(put.digest), lambda _: b"not zstd at all")
    with pytest.raises(CorruptObject, match="damaged"):
        store.get_json(put.digest)


def test_a_missing_object_is_object_not_found(store):
    digest = "0" * 64
    with pytest.raises(ObjectNotFound) as caught:
        store.get_json(digest)
    assert object_key(digest) in str(caught.value)
    assert not store.has(digest)


def test_put_get_delete_and_list_by_prefix(store):
    backend = store.backend
    backend.put("pending/s1/part-000001", b"one")
    backend.put("pending/s1/checkpoint.json", b"{}")
    backend.put("pending/s2/checkpoint.json", b"{}")
    assert backend.exists("pending/s1/part-000001")
    assert backend.get("pending/s1/part-000001") == b"one"
    with backend.open("pending/s1/part-000001") as stream:
        assert stream.read() == b"one"
    listed = sorted(obj.key for obj in backend.list("pending/s1/"))
    assert listed == ["pending/s1/checkpoint.json", "pending/s1/part-000001"]
    assert all(obj.modified.tzinfo is not None for obj in backend.list("pending/"))
    backend.delete("pending/s1/part-000001")
    backend.delete("pending/s1/part-000001")  # already gone: no error
    assert not backend.exists("pending/s1/part-000001")
    with pytest.raises(ObjectNotFound):
        backend.get("pending/s1/part-000001")


def test_put_file_streams_a_file_in(store, tmp_path: Path):
    source = tmp_path / "big"
    source.write_bytes(os.urandom(3 << 20))
    store.backend.put_file("snapshots/x.manifest", source)
    assert store.backend.get("snapshots/x.manifest") == source.read_bytes()


def test_keys_cannot_leave_the_store():
    for bad in ["../etc/passwd", "/abs", "a//b", "a/../b", ".tmp-x", "a b", ""]:
        with pytest.raises(ValueError):
            check_key(bad)


# --- the local folder ---------------------------------------------------------------------------


def test_a_crashed_write_leaves_no_object_under_its_final_name(tmp_path: Path):
    backend = LocalBackend(tmp_path / "store")

    def crash(out):
        out.write(b"half an obj")
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(StorageError, match="could not write"):
        backend._write("objects/ab/abcd", crash, durable=False)
    assert not backend.exists("objects/ab/abcd")
    assert list((tmp_path / "store" / "objects" / "ab").iterdir()) == []


def test_an_empty_file_left_by_a_power_cut_counts_as_absent(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    put = store.put_json({"_id": "a"})
    (tmp_path / object_key(put.digest)).write_bytes(b"")
    assert store.put_json({"_id": "a"}).new  # written again, not trusted


def test_a_folder_below_a_file_is_refused_with_the_folder_named(tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    store = ObjectStore(backend_for(str(tmp_path / "file" / "snapshots")))
    with pytest.raises(StorageError) as caught:
        store.put_json({"_id": "a"})
    assert str(tmp_path / "file" / "snapshots") in str(caught.value)


@pytest.fixture
def small_mount(tmp_path: Path):
    """A real, tiny tmpfs (mounted read-only or not): needs root, which CI is."""
    mounted = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],  # noqa: S607
            capture_output=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=True)  # noqa: S603, S607


def test_a_full_folder_says_so(small_mount):
    store = ObjectStore(LocalBackend(small_mount("size=64k") / "snapshots"))
    with pytest.raises(StorageError) as caught:
        for n in range(100):
            store.put_json({"_id": str(n), "blob": os.urandom(8192).hex()})
    assert "is full" in str(caught.value)
    # Nothing half-written is left under an object's name.
    for obj in store.backend.list("objects/"):
        store.get_canonical(obj.key.rpartition("/")[2])


def test_a_read_only_folder_says_it_is_not_writable(small_mount):
    store = ObjectStore(LocalBackend(small_mount("size=64k,ro")))
    with pytest.raises(StorageError, match="not writable") as caught:
        store.put_json({"_id": "a"})
    assert "WBM_SNAPSHOT_STORAGE" in str(caught.value)


# --- S3 -----------------------------------------------------------------------------------------


def _all_text(error: BaseException) -> str:
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


def test_s3_with_a_wrong_secret_is_refused_clearly_and_never_shows_it(s3_server):
    bucket = s3_server.new_bucket()
    secret = "wrong-secret-" + "z" * 27
    store = ObjectStore(s3_server.backend(bucket, secret_access_key=secret))
    with pytest.raises(StorageError) as caught:
        store.put_json({"_id": "a"})
    assert "refused the credentials" in str(caught.value)
    assert bucket in str(caught.value)
    assert secret not in _all_text(caught.value)
    assert s3_server.secret_access_key not in _all_text(caught.value)


def test_s3_with_an_unknown_key_is_refused_on_reads_too(s3_server):
    bucket = s3_server.new_bucket()
    backend = s3_server.backend(bucket, access_key_id="AKIAUNKNOWN000000000")
    with pytest.raises(StorageError, match="refused the credentials"):
        backend.exists("objects/00/" + "0" * 64)
    with pytest.raises(StorageError, match="refused the credentials"):
        list(backend.list("objects/"))


def test_s3_missing_bucket_says_so(s3_server):
    store = ObjectStore(s3_server.backend("no-such-bucket-here"))
    with pytest.raises(StorageError, match="does not exist"):
        store.put_json({"_id": "a"})


def test_s3_unreachable_is_transient(s3_server):
    endpoint = f"http://127.0.0.1:{free_port()}"
    backend = S3Backend(
        "b", endpoint_url=endpoint, region="us-east-1", access_key_id="k", secret_access_key="s",
        attempts=1,
    )  # fmt: skip
    with pytest.raises(StorageError) as caught:
        backend.put("objects/00/" + "0" * 64, b"x")
    assert caught.value.transient and "could not be reached" in str(caught.value)

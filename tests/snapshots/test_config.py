"""The store the settings name: a folder by default (created by the first write, never by the
settings), or an S3 bucket with a prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from sites.snapshots import LocalBackend, S3Backend, backend_for, store_from_settings


def test_the_default_is_var_snapshots_under_the_project():
    assert Path(settings.WBM_SNAPSHOT_STORAGE) == Path(settings.VAR_DIR) / "snapshots"
    assert Path(settings.WBM_SNAPSHOT_STORAGE).is_absolute()


def test_a_folder_is_created_by_the_first_write_only(tmp_path: Path, settings):
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snaps")
    store = store_from_settings()
    assert isinstance(store.backend, LocalBackend) and not (tmp_path / "snaps").exists()
    store.put_json({"_id": "a"})
    assert (tmp_path / "snaps" / "objects").is_dir()


def test_an_s3_location_with_a_prefix(s3_server, settings):
    bucket = s3_server.new_bucket()
    settings.WBM_SNAPSHOT_STORAGE = f"s3://{bucket}/site-data"
    settings.WBM_SNAPSHOT_S3_ENDPOINT_URL = s3_server.endpoint
    settings.WBM_SNAPSHOT_S3_REGION = "us-east-1"
    settings.WBM_SNAPSHOT_S3_ACCESS_KEY_ID = s3_server.access_key_id
    settings.WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY = s3_server.secret_access_key
    store = store_from_settings()
    assert isinstance(store.backend, S3Backend) and store.backend.prefix == "site-data/"
    put = store.put_json({"_id": "a"})
    listed = s3_server.admin().list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"site-data/objects/{put.digest[:2]}/{put.digest}"]
    assert store.get_json(put.digest) == {"_id": "a"}
    assert s3_server.secret_access_key not in store.backend.description


def test_a_bucket_without_prefix():
    backend = backend_for(
        "s3://plain", region="eu-west-1", access_key_id="k", secret_access_key="s"
    )
    assert isinstance(backend, S3Backend) and (backend.bucket, backend.prefix) == ("plain", "")


def test_a_subfolder_is_a_store_of_its_own_and_cannot_leave_the_store(tmp_path: Path, settings):
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snaps")
    site = store_from_settings("sites/site-1")
    site.put_json({"_id": "a"})
    assert (tmp_path / "snaps" / "sites" / "site-1" / "objects").is_dir()
    assert not (tmp_path / "snaps" / "objects").exists()
    settings.WBM_SNAPSHOT_STORAGE = "s3://bucket/prefix"
    assert store_from_settings("sites/site-1").backend.prefix == "prefix/sites/site-1/"
    for bad in ("../x", "sites/../x", "/x", "a//b", "a\\b"):
        with pytest.raises(ValueError):
            store_from_settings(bad)

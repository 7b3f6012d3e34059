"""The snapshot store the settings name (backupapp/settings.py reads the environment):

- `WBM_SNAPSHOT_STORAGE`: a folder (default `var/snapshots`), or `s3://bucket` or
  `s3://bucket/prefix` for an S3-compatible store;
- `WBM_SNAPSHOT_S3_ENDPOINT_URL` (empty: AWS itself), `WBM_SNAPSHOT_S3_REGION`,
  `WBM_SNAPSHOT_S3_ACCESS_KEY_ID` and `WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY` (both empty: boto3's
  own chain, an instance role for example).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .backends import Backend, LocalBackend
from .objects import ObjectStore

S3_SCHEME = "s3://"


def backend_for(
    location: str,
    *,
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
) -> Backend:
    """A folder path, or `s3://bucket[/prefix]` with the S3 options."""
    if location.startswith(S3_SCHEME):
        # Imported only for an S3 store: boto3 and botocore add tens of MB to every web and
        # worker process that never uses them (bench/scale's worker memory).
        from .s3 import S3Backend

        bucket, _, prefix = location.removeprefix(S3_SCHEME).partition("/")
        return S3Backend(
            bucket,
            prefix=prefix,
            endpoint_url=endpoint_url or None,
            region=region or None,
            access_key_id=access_key_id or None,
            secret_access_key=secret_access_key or None,
        )
    if not location:
        raise ValueError("WBM_SNAPSHOT_STORAGE is empty")
    return LocalBackend(Path(location))


def store_from_settings(subfolder: str = "") -> ObjectStore:
    """The store the settings name, or the part of it under `subfolder` (one site's snapshots:
    the engine gives each site a store of its own, so pruning one site's snapshots never
    depends on another site's, and removing a site's data is removing one folder)."""
    location = str(settings.WBM_SNAPSHOT_STORAGE)
    if subfolder:
        parts = subfolder.split("/")
        if any(not part or part in (".", "..") or "\\" in part for part in parts):
            raise ValueError(f"not a storage subfolder: {subfolder!r:.80}")
        location = location.rstrip("/") + "/" + subfolder
    return ObjectStore(
        backend_for(
            location,
            endpoint_url=settings.WBM_SNAPSHOT_S3_ENDPOINT_URL,
            region=settings.WBM_SNAPSHOT_S3_REGION,
            access_key_id=settings.WBM_SNAPSHOT_S3_ACCESS_KEY_ID,
            secret_access_key=settings.WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY,
        )
    )

"""Any S3-compatible object store as a snapshot backend (AWS S3, MinIO, Ceph, Backblaze B2,
Cloudflare R2, moto in the tests), through boto3.

boto3 rather than django-storages: the snapshots need HEAD (does this object exist?), listing a
prefix with each object's write time (the garbage collector's grace cutoff) and streamed reads,
which django-storages' Storage API hides or lacks. An S3 PUT is atomic (a reader sees the whole
object or none) and durable once answered, so no temporary names and `sync()` is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as S3ConnectionError,
)

from .backends import Backend, StoredObject, check_key
from .errors import ObjectNotFound, StorageError

_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "403",
}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_FULL = {"QuotaExceeded", "EntityTooLarge", "ServiceQuotaExceeded"}


class S3Backend(Backend):
    """One bucket (and an optional key prefix inside it) of an S3-compatible store.

    Credentials given as None leave boto3 to its own chain (an instance role, for example).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout: float = 30.0,
        attempts: int = 4,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 backend needs a bucket")
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
        )
        self._client = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                # boto3's standard mode retries throttling, 5xx and lost connections, with
                # backoff, up to `attempts` tries in all.
                retries={"max_attempts": attempts, "mode": "standard"},
                # Path-style addressing works with every S3-compatible server (MinIO, moto...).
                s3={"addressing_style": "path"},
            ),
        )

    @property
    def description(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        inside = f" (under {self.prefix})" if self.prefix else ""
        return f"the S3 bucket {self.bucket}{inside}{where}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _failure(self, action: str, key: str, error: Exception) -> StorageError:
        # Messages are composed from S3's error code only: boto's own text may quote a request.
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _REFUSED:
                return StorageError(
                    f"{self.description} refused the credentials ({code}) when asked to "
                    f"{action} {key}: check WBM_SNAPSHOT_S3_ACCESS_KEY_ID and "
                    "WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY, and that the key may use this bucket."
                )
            if code == "NoSuchBucket":
                return StorageError(
                    f"{self.description} does not exist: create the bucket or correct "
                    "WBM_SNAPSHOT_STORAGE."
                )
            if code in _FULL:
                return StorageError(f"{self.description} is full ({code}): could not {action}.")
            transient = isinstance(status, int) and (status >= 500 or status == 429)
            return StorageError(
                f"{self.description} answered {code or 'an error'} (HTTP {status}) when asked "
                f"to {action} {key}.",
                transient=transient,
            )
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return StorageError(
                f"No usable credentials for {self.description}: set "
                "WBM_SNAPSHOT_S3_ACCESS_KEY_ID and WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY."
            )
        if isinstance(error, S3ConnectionError):
            return StorageError(
                f"{self.description} could not be reached when asked to {action} {key}.",
                transient=True,
            )
        return StorageError(
            f"{self.description} failed to {action} {key} ({type(error).__name__}).",
            transient=True,
        )

    @contextmanager
    def _translated(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as error:
            raise self._failure(action, key, error) from error

    def put(self, key: str, data: bytes) -> None:
        with self._translated("write", key):
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        # One PUT streamed from the file (up to S3's 5 GB, some 50 million manifest entries):
        # a single request keeps the write atomic without multipart's leftovers on a failure.
        with self._translated("write", key), open(path, "rb") as body:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _MISSING_KEY:
                return False
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error
        return True

    def _get_object(self, key: str) -> dict[str, Any]:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in _MISSING_KEY:
                message = f"{key} is missing from {self.description}."
                raise ObjectNotFound(message, key=key) from None
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error

    def get(self, key: str) -> bytes:
        answer = self._get_object(key)
        with self._translated("read", key):
            return answer["Body"].read()

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            answer = self._client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            if code in _MISSING_KEY:
                message = f"{key} is missing from {self.description}."
                raise ObjectNotFound(message, key=key) from None
            if code == "InvalidRange":  # starts at or past the end: nothing there
                return b""
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error
        with self._translated("read", key):
            return answer["Body"].read()

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        body = self._get_object(key)["Body"]
        try:
            with self._translated("read", key):
                yield body
        finally:
            body.close()

    def delete(self, key: str) -> None:
        with self._translated("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str) -> Iterator[StoredObject]:
        if prefix:
            check_key(prefix.rstrip("/"))
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        with self._translated("list", prefix or "/"):
            for page in pages:
                for entry in page.get("Contents", []):
                    key = entry["Key"][len(self.prefix) :]
                    yield StoredObject(key, entry["Size"], entry["LastModified"])

"""The snapshot tests' stores: a local folder, and a real S3-compatible server (moto's server
mode) in a process of its own for the whole run, with IAM authentication switched on so wrong
credentials are refused as a real S3 refuses them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from sites.snapshots import LocalBackend, ObjectStore, PackReader, S3Backend
from sites.snapshots.packs import pack_key
from tests.processes import free_port, stop_process_group, wait_for, write_pid
from wixapi import ApiKeyAuth, WixDataClient
from wixemulator import services as emu

REGION = "us-east-1"
# The IAM calls moto answers before it starts checking signatures: user, policy, access key.
SETUP_CALLS = 3


@dataclass
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str

    def admin(self) -> Any:
        """A boto3 S3 client with the real credentials (to make buckets, to damage objects)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def new_bucket(self) -> str:
        name = f"wbm-{uuid.uuid4().hex[:12]}"
        self.admin().create_bucket(Bucket=name)
        return name

    def backend(self, bucket: str, **options: str) -> S3Backend:
        values = {
            "endpoint_url": self.endpoint,
            "region": REGION,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            **options,
        }
        return S3Backend(bucket, **values)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    workdir = tmp_path_factory.mktemp("moto")
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)}
    log = open(workdir / "moto.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    write_pid(process, workdir / "moto.pid")
    try:
        wait_for(lambda: _answers(port), 30, what="the S3 server (moto) to start")
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="setup",
            aws_secret_access_key="setup-secret",
        )
        iam.create_user(UserName="wbm")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="wbm", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="wbm")["AccessKey"]
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        stop_process_group(process)


@pytest.fixture(params=["local", "s3"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ObjectStore:
    """An empty store on each backend in turn."""
    if backend_kind == "local":
        return ObjectStore(LocalBackend(tmp_path / "snapshots"))
    server: S3Server = request.getfixturevalue("s3_server")
    return ObjectStore(server.backend(server.new_bucket(), prefix="site-1"))


def damage(store: ObjectStore, key: str, change: Callable[[bytes], bytes]) -> None:
    """Change a stored object behind the store's back, as a failing disk or a meddler would:
    the file rewritten in place, or the S3 object overwritten."""
    backend = store.backend
    if isinstance(backend, LocalBackend):
        path = backend.root.joinpath(*key.split("/"))
        path.write_bytes(change(path.read_bytes()))
    else:
        backend.put(key, change(backend.get(key)))


def flip_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


@pytest.fixture
def emu_store(transactional_db) -> emu.SiteCredentials:
    """An emulated store with the demo content (436 items in 5 collections)."""
    return emu.create_site(name="Snapshot Store", demo_data=True)


@pytest.fixture
def data_client(emulator_url: str) -> Iterator[Callable[[emu.SiteCredentials], WixDataClient]]:
    clients: list[WixDataClient] = []

    def make(creds: emu.SiteCredentials) -> WixDataClient:
        # Retries happen at once: what a test checks is what they do, never how long they wait.
        client = WixDataClient(
            emulator_url,
            ApiKeyAuth(api_key=creds.api_key, site_id=creds.site_id),
            sleep=lambda seconds: None,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def stored_item(store: ObjectStore, entry: Any) -> Any:
    """An entry's item as the store holds it (read out of its pack, its hash checked)."""
    return json.loads(PackReader(store.backend).item(entry))


def damage_item(store: ObjectStore, entry: Any) -> None:
    """Flip one byte in the middle of one item's bytes inside its pack (its neighbours intact)."""
    middle = entry.offset + entry.length // 2

    def flip(data: bytes) -> bytes:
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]

    damage(store, pack_key(entry.pack), flip)

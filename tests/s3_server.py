"""A real S3 endpoint for the tests: moto's threaded server on a free loopback port.

Used by the ``s3_server`` and ``s3_bucket`` fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import functools
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Fake credentials the tests give moto (moto accepts any).
FAKE_KEY = "zarrlayered-test-key"
FAKE_SECRET = "zarrlayered-test-secret"
REGION = "us-east-1"

#: Environment set while the server runs: fake credentials, and no lookups outside loopback
#: (no instance metadata service, no user config or credential files).
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": FAKE_KEY,
    "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_CONFIG_FILE": "/dev/null",
}
#: Environment variables removed while the server runs, so a developer's real settings cannot leak in.
CLEARED_ENV = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server on 127.0.0.1 on a free port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def storage_options(endpoint: str, **extra: Any) -> dict[str, Any]:
    """The s3fs storage options that reach the test server."""
    return {"endpoint_url": endpoint, "key": FAKE_KEY, "secret": FAKE_SECRET, **extra}


@functools.cache
def boto3_client(endpoint: str) -> Any:
    """A boto3 S3 client for the test server (one per endpoint; boto3 clients are thread-safe)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=FAKE_KEY,
        aws_secret_access_key=FAKE_SECRET,
        region_name=REGION,
    )


def new_bucket(endpoint: str) -> str:
    """Create a bucket with a unique name and return the name."""
    name = f"zl-test-{uuid.uuid4().hex[:16]}"
    boto3_client(endpoint).create_bucket(Bucket=name)
    return name


def remove_bucket(endpoint: str, name: str) -> None:
    """Delete every object of a bucket, then the bucket."""
    client = boto3_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:
            client.delete_objects(Bucket=name, Delete={"Objects": objects})
    client.delete_bucket(Bucket=name)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import s3_server as _s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a real S3 server (moto) on loopback, with fake AWS credentials in the environment.

    The environment variables are set only while the session uses the server and restored afterwards.
    """
    werkzeug = logging.getLogger("werkzeug")  # moto's server logs every request at INFO
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in _s3.CLEARED_ENV:
                patch.delenv(name, raising=False)
            for name, value in _s3.FAKE_ENV.items():
                patch.setenv(name, value)
            with _s3.moto_server() as endpoint:
                yield endpoint
    finally:
        werkzeug.setLevel(level)


@pytest.fixture
def s3_bucket(s3_server: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A new, uniquely named bucket: yields ``("s3://<bucket>", storage_options)``.

    ``FsspecStore.from_url(f"{url_prefix}/root", storage_options=storage_options)`` opens a store in it.
    The bucket and its objects are deleted afterwards.
    """
    bucket = _s3.new_bucket(s3_server)
    try:
        yield f"s3://{bucket}", _s3.storage_options(s3_server)
    finally:
        _s3.remove_bucket(s3_server, bucket)

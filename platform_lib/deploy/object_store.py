"""An S3-compatible server on 127.0.0.1 for the local production stack and the tests.

It is moto's server mode (the ``moto[server]`` package of the dev extra): in memory, nothing is
kept when it stops. It honours conditional writes (``If-None-Match: *``), which is what makes
concurrent Delta writers safe on S3 (see docs/deploy.md).
"""

import sys
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.deploy.processes import start_in_own_group, stop_group, wait_for_port
from platform_lib.errors import MeshError

HOST = "127.0.0.1"
ACCESS_KEY = "mesh-local"
SECRET_KEY = "mesh-local-secret"  # the in-memory local server accepts any key
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 60.0
# Loopback only: never route through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ObjectStoreServer(BaseModel):
    """A running S3-compatible server and the process group to stop."""

    model_config = ConfigDict(frozen=True)

    pid: int
    port: int
    log: Path

    @property
    def endpoint(self) -> str:
        """The endpoint URL (``AWS_ENDPOINT_URL``)."""
        return f"http://{HOST}:{self.port}"

    def environ(self) -> dict[str, str]:
        """The AWS variables that point delta-rs (and pyarrow) at this server."""
        return s3_environ(self.endpoint)


def s3_environ(endpoint: str) -> dict[str, str]:
    """The environment for an S3-compatible endpoint over plain HTTP on this machine.

    ``AWS_CONDITIONAL_PUT=etag`` states what delta-rs already does on S3: a commit file is
    written with ``If-None-Match: *``, so of two writers racing for one version exactly one wins.
    """
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_CONDITIONAL_PUT": "etag",
    }


def start_object_store(port: int, log: Path) -> ObjectStoreServer:
    """Start the S3-compatible server on ``127.0.0.1:port``, logging to ``log``."""
    server = Path(sys.executable).parent / "moto_server"
    if not server.is_file():
        raise MeshError(
            f"the S3-compatible server {server} is not installed",
            fix="run `make setup` (it installs the dev extra, which brings moto[server])",
        )
    pid = start_in_own_group([str(server), "-H", HOST, "-p", str(port)], log=log)
    try:
        wait_for_port(HOST, port, timeout=START_TIMEOUT_SECONDS, what="the S3 server", log=log)
    except MeshError:
        stop_group(pid)
        raise
    return ObjectStoreServer(pid=pid, port=port, log=log)


def create_bucket(endpoint: str, bucket: str) -> None:
    """Create ``bucket`` on the local server (an existing one is kept)."""
    request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
    try:
        with _OPENER.open(request, timeout=30):
            pass
    except urllib.error.HTTPError as error:
        if error.code != 409:  # already exists
            raise MeshError(
                f"cannot create bucket {bucket!r} at {endpoint}: HTTP {error.code}",
                fix="check that the endpoint is the local S3 server started by `mesh deploy up`",
            ) from error


def stop_object_store(server: ObjectStoreServer) -> None:
    """Stop the server; its buckets are gone with it."""
    stop_group(server.pid)

"""A domain writes only under its own prefix of the lake: ``<lake root>/<domain>/``.

It also reads another domain's tables only through its declared reads: while its asset runs,
:func:`check_read_target` (called by ``lake.reader.open_dataset``) refuses another domain's
prefix except while the platform loads the declared reads (:func:`loading_declared_reads`), which
applies the access rules and masking of ``platform_lib.contracts.access``.

Each asset runs its work inside :func:`writing_for` (its domain). Every commit to the lake goes
through a ``lake.committer.Committer``, and creating one calls :func:`check_write_target`, so a
target is checked before anything is read or written for it. A target outside the running
domain's prefix, through another domain's key, a ``..`` in a path or a symbolic link of a local
lake, is refused with a :class:`MeshError`. Outside an asset (the platform's own tools, tests) no
domain is running and nothing is restricted.

Example:
    >>> with writing_for("payments"):
    ...     check_write_target(settings.table_uri("finance", "product", "x"), settings)
    Traceback (most recent call last):
    MeshError: domain 'payments' may write only under ...
"""

import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from platform_lib.conventions import TableKey, check_name
from platform_lib.errors import MeshError
from platform_lib.settings import MeshSettings, resolve_settings

_writing_domain: ContextVar[str | None] = ContextVar("writing_domain", default=None)
_loading_reads: ContextVar[bool] = ContextVar("loading_reads", default=False)


@contextmanager
def writing_for(domain: str) -> Iterator[None]:
    """Restrict the writes made while the block runs to ``domain``'s prefix of the lake."""
    token = _writing_domain.set(check_name(domain, "domain"))
    try:
        yield
    finally:
        _writing_domain.reset(token)


@contextmanager
def loading_declared_reads() -> Iterator[None]:
    """Let the platform open the tables a running asset declared in ``reads`` (already checked)."""
    token = _loading_reads.set(True)
    try:
        yield
    finally:
        _loading_reads.reset(token)


def check_read_target(uri: str, settings: MeshSettings | None = None) -> None:
    """Refuse, with a :class:`MeshError`, a read of another domain's table at ``uri`` made by the
    running domain's own code (the platform's loading of declared reads is allowed)."""
    domain = _writing_domain.get()
    if domain is None or _loading_reads.get():
        return
    root = (settings or resolve_settings()).lake_root.rstrip("/")
    if _inside(uri, root, domain) or not _inside_lake(uri, root):
        return
    raise MeshError(
        f"domain {domain!r} opened {uri}, another domain's table, without declaring the read",
        fix="declare it in @table(reads={...}): the platform then checks its access and masks "
        "its restricted columns",
    )


def writing_domain() -> str | None:
    """The domain whose asset is running here, if any."""
    return _writing_domain.get()


def check_write_target(
    uri: str, settings: MeshSettings | None = None, *, key: TableKey | None = None
) -> None:
    """Refuse, with a :class:`MeshError`, a write to ``uri`` (table ``key``) outside the prefix
    of the domain running (nothing is refused when no domain is running).

    Args:
        uri: Where the write would commit (a local path or an object store URI).
        settings: The lake root; resolved from the environment when not given.
        key: The table written, when the caller knows it.
    """
    domain = _writing_domain.get()
    if domain is None:
        return
    root = (settings or resolve_settings()).lake_root.rstrip("/")
    prefix = f"{root}/{domain}/"
    fix = (
        f"write only {domain}'s own tables ({domain}/<layer>/<table>); another domain's table "
        "is written by that domain's assets"
    )
    if key is not None and key.domain != domain:
        raise MeshError(
            f"domain {domain!r} may write only under {prefix}, not to {key} ({uri})", fix=fix
        )
    if not _inside(uri, root, domain):
        raise MeshError(
            f"domain {domain!r} may write only under {prefix}, not to {uri} (after resolving "
            "'..' and symbolic links)",
            fix=fix,
        )


def _inside_lake(uri: str, root: str) -> bool:
    if "://" in root or "://" in uri:
        return uri.startswith(root + "/")
    return os.path.realpath(uri).startswith(os.path.realpath(root) + os.sep)


def _inside(uri: str, root: str, domain: str) -> bool:
    if "://" in root or "://" in uri:
        scheme, _, path = uri.partition("://")
        root_scheme, _, root_path = root.partition("://")
        normal = posixpath.normpath("/" + path)
        allowed = posixpath.normpath(f"/{root_path}/{domain}")
        return scheme == root_scheme and normal.startswith(allowed + "/")
    target = os.path.realpath(uri)
    allowed = os.path.join(os.path.realpath(root), domain)  # a linked domain folder escapes too
    return target.startswith(allowed + os.sep)

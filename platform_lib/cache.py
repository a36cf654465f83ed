"""A content-addressed cache for results that are slow to recompute and cheap to key.

Parsing and validating a contract, or importing a code location and collecting its tables, gives
the same result for the same inputs. The cache keeps such results under the project
(``<project>/.mesh/cache/<namespace>/``), one file per key, where the key is a digest of every
input *and* of the platform's own code and library versions: a changed file, a new platform
version or another Python gives a new key, so an entry is never stale, only unused.

It never fails a command: an entry that cannot be read or written is simply recomputed.
``MESH_CACHE=off`` turns it off (``mesh check --no-cache`` does this for one run).
"""

import functools
import hashlib
import os
import pickle
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from platform_lib.settings import PROJECT_ROOT_MARKER

CACHE_FOLDER = Path(".mesh") / "cache"
CACHE_SWITCH = "MESH_CACHE"
"""Environment variable; ``off`` disables the cache."""
_KEYED_PACKAGES = ("dagster", "open-data-contract-standard", "jsonschema-rs", "pydantic", "pyyaml")
"""Libraries whose behaviour shapes cached results: their versions are part of every key."""
_KEYED_FILES = ("*.py", "*.json")
"""platform_lib's files that shape cached results: its code and its data (the ODCS schemas)."""


def digest(*parts: str | bytes) -> str:
    """A SHA-256 over ``parts``, each length-prefixed so that no two sequences collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A digest of platform_lib's files and the versions of the libraries results depend on."""
    return fingerprint_of(Path(__file__).resolve().parent)


def fingerprint_of(package: Path) -> str:
    """A digest of ``package``'s code and data files, Python's version and the library versions.

    The data files (``*.json``) are the ODCS schemas: a changed one changes every contract's key.
    """
    parts: list[str | bytes] = [sys.version]
    for name in _KEYED_PACKAGES:
        try:
            parts.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} absent")
    files = sorted(path for pattern in _KEYED_FILES for path in package.rglob(pattern))
    for source in files:
        parts += [str(source.relative_to(package)), source.read_bytes()]
    return digest(*parts)


class ResultCache:
    """Pickled results in ``folder``, one file per key.

    Only this platform writes there (it is the project's own folder, like ``__pycache__``), so
    unpickling its files is as safe as importing the project's code.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> Any | None:
        """The result stored under ``key``, or None (absent or unreadable)."""
        try:
            with (self.folder / key).open("rb") as stored:
                return pickle.load(stored)
        except Exception:  # a missing, truncated or foreign file is a miss, never an error
            return None

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` atomically (write then rename); failures are ignored."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.folder / key)
        except Exception:  # a read-only project still works, only slower
            return


def cache_enabled() -> bool:
    """Whether results may be cached (``MESH_CACHE`` is not ``off``)."""
    return os.environ.get(CACHE_SWITCH, "").strip().lower() not in {"off", "0", "false", "no"}


def project_cache(project_root: Path, namespace: str) -> ResultCache | None:
    """The cache ``namespace`` of the project at ``project_root``; None when caching is off."""
    if not cache_enabled():
        return None
    return ResultCache(project_root / CACHE_FOLDER / namespace)


@functools.lru_cache(maxsize=1024)
def enclosing_project(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding ``workspace.yaml``, if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / PROJECT_ROOT_MARKER).is_file():
            return candidate
    return None

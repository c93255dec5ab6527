"""Which code produced a result: the git commit, whether the tree was dirty, the versions."""

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from django.conf import settings

UNKNOWN = "unknown"
GIT_TIMEOUT_SECONDS = 5


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


@functools.cache
def code_version() -> dict[str, str | bool]:
    """The commit of the running code (or ``unknown`` outside a checkout) and whether it was dirty."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit or UNKNOWN, "dirty": bool(status)}


def package_versions(names: tuple[str, ...] = ("django", "requests", "urllib3", "pillow")) -> dict[str, str]:
    """Python's version and the installed versions of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = UNKNOWN
    return versions

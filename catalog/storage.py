"""Media storage whose writes are atomic: a file appears whole under its name, or not at all."""

import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import FileSystemStorage

PARTIAL_SUFFIX = ".part"
DEFAULT_FILE_MODE = 0o644


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that writes to a hidden ``.part`` file and renames it into place.

    A process killed mid-write leaves only a ``.part`` file, never a truncated image
    under a real name; ``remove_partial_files`` sweeps those up at the next sync.
    """

    def path(self, name: str) -> str:
        """The file's path, refused when it resolves outside the storage root through a symlink.

        Django's own check is on the path as written; a symlink inside MEDIA_ROOT pointing
        elsewhere would pass it, so every use is checked against the resolved path too.
        """
        full_path = super().path(name)
        if not resolves_inside(full_path, self.location):
            raise SuspiciousFileOperation(f"{name!r} resolves outside the media root through a symlink")
        return full_path

    def _save(self, name: str, content: File[Any]) -> str:
        full_path = Path(self.path(name))
        full_path.parent.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name tells the sweep which partial files still have a writer.
        handle, temp_path = tempfile.mkstemp(dir=full_path.parent, prefix=f".{os.getpid()}-", suffix=PARTIAL_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as temp_file:
                for chunk in content.chunks():
                    temp_file.write(chunk)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.chmod(temp_path, self.file_permissions_mode or DEFAULT_FILE_MODE)
            os.replace(temp_path, full_path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp_path)
            raise
        return str(name).replace("\\", "/")

    def remove_partial_files(self) -> int:
        """Delete ``.part`` files whose writer is gone (killed mid-write); return how many.

        Files of live writers (a page view refreshing a product) are left alone.
        """
        root = Path(self.location)
        removed = 0
        for partial in root.rglob(f"*{PARTIAL_SUFFIX}") if root.is_dir() else ():
            if writer_alive(partial.name):
                continue
            with suppress(FileNotFoundError):
                partial.unlink()
                removed += 1
        return removed


def writer_alive(partial_name: str) -> bool:
    """Whether the process named in a ``.PID-xxxx.part`` file name still runs."""
    pid = partial_name.lstrip(".").split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def resolves_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether the path, every symlink on the way followed, is the root or below it."""
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root

"""Media writes are atomic (a file appears whole or not at all) and never escape MEDIA_ROOT through a symlink."""

import os
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def files_under(root) -> list[str]:
    """Every file below root, relative, hidden ones included."""
    return sorted(str(path.relative_to(root)) for path in Path(root).rglob("*") if path.is_file())


def test_save_writes_the_file_and_leaves_no_partial(settings):
    name = default_storage.save("products/1/1.webp", ContentFile(b"abc"))

    assert name == "products/1/1.webp"
    assert files_under(settings.MEDIA_ROOT) == ["products/1/1.webp"]
    assert (Path(settings.MEDIA_ROOT) / name).stat().st_mode & 0o777 == 0o644


def test_save_replaces_an_existing_file_in_place(settings):
    default_storage.save("products/1/1.webp", ContentFile(b"old"))
    default_storage.save("products/1/1.webp", ContentFile(b"new"))

    assert (Path(settings.MEDIA_ROOT) / "products/1/1.webp").read_bytes() == b"new"
    assert files_under(settings.MEDIA_ROOT) == ["products/1/1.webp"]


def test_a_failed_write_leaves_neither_the_file_nor_a_partial(settings, mocker):
    mocker.patch("catalog.storage.os.replace", side_effect=OSError("disk full"))

    with pytest.raises(OSError, match="disk full"):
        default_storage.save("products/1/1.webp", ContentFile(b"abc"))
    assert files_under(settings.MEDIA_ROOT) == []


def test_remove_partial_files_sweeps_what_a_killed_writer_left(settings):
    leftover = Path(settings.MEDIA_ROOT) / "products/2/.999999999-abc.part"  # a writer that no longer runs
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    default_storage.save("products/2/1.webp", ContentFile(b"whole"))

    assert default_storage.remove_partial_files() == 1
    assert files_under(settings.MEDIA_ROOT) == ["products/2/1.webp"]


def test_remove_partial_files_with_no_media_root_yet_removes_nothing():
    assert default_storage.remove_partial_files() == 0


def test_remove_partial_files_leaves_a_live_writers_file_alone(settings):
    in_flight = Path(settings.MEDIA_ROOT) / f"products/2/.{os.getpid()}-abc.part"
    in_flight.parent.mkdir(parents=True)
    in_flight.write_bytes(b"being written")

    assert default_storage.remove_partial_files() == 0
    assert in_flight.exists()


@pytest.fixture
def outside(tmp_path):
    """A folder outside MEDIA_ROOT holding one file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"not media")
    return folder


@pytest.fixture
def linked_media(settings, outside):
    """MEDIA_ROOT with ``products/9`` a symlink to the outside folder."""
    root = Path(settings.MEDIA_ROOT)
    (root / "products").mkdir(parents=True)
    (root / "products" / "9").symlink_to(outside, target_is_directory=True)
    return root


@pytest.mark.usefixtures("linked_media")
def test_a_save_through_a_symlink_out_of_the_media_root_is_refused(outside):
    with pytest.raises(SuspiciousFileOperation, match="resolves outside the media root through a symlink"):
        default_storage.save("products/9/1.webp", ContentFile(b"abc"))

    assert sorted(path.name for path in outside.iterdir()) == ["secret.txt"]


@pytest.mark.usefixtures("linked_media")
def test_a_read_through_a_symlink_out_of_the_media_root_is_refused():
    with pytest.raises(SuspiciousFileOperation):
        default_storage.open("products/9/secret.txt")


@pytest.mark.usefixtures("linked_media")
def test_media_urls_do_not_serve_files_outside_the_media_root_through_a_symlink(client, settings):
    settings.SERVE_MEDIA = True

    assert client.get("/media/products/9/secret.txt").status_code == 400


def test_a_symlink_that_stays_inside_the_media_root_is_followed(settings):
    root = Path(settings.MEDIA_ROOT)
    default_storage.save("products/1/1.webp", ContentFile(b"abc"))
    (root / "products" / "alias").symlink_to(root / "products" / "1", target_is_directory=True)

    assert default_storage.open("products/alias/1.webp").read() == b"abc"

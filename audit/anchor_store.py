"""Append-only stores for signed anchors, kept apart from the database: a local directory or an S3 bucket.

Neither store ever replaces an anchor: the directory links each new file into place (which
fails if the name exists) and makes it read-only; S3 writes with ``If-None-Match: *``, and
a bucket with Object Lock in compliance mode keeps even its owner from deleting anchors.
"""

import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from . import conf

ANCHOR_SUFFIX = ".json"
ANCHOR_FILE_MODE = 0o444


class AnchorStoreUnavailable(Exception):
    """The anchor store is missing or unreadable; the message says which and why."""


class AnchorStore(ABC):
    """Where anchors are kept: list, read, and add one without ever replacing another."""

    @abstractmethod
    def names(self) -> list[str]:
        """Every anchor's name, sorted."""

    @abstractmethod
    def read(self, name: str) -> bytes:
        """One anchor's bytes."""

    @abstractmethod
    def append(self, name: str, data: bytes) -> None:
        """Add an anchor; an existing name is an error, never overwritten."""

    @abstractmethod
    def prepare(self) -> None:
        """Make the store ready for a first anchor (the writer's job; verifying never creates a store)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for messages."""


class LocalAnchorStore(AnchorStore):
    """A directory of anchor files (the default): put it where the database's users cannot write."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def describe(self) -> str:
        return str(self.directory)

    def names(self) -> list[str]:
        try:
            return sorted(name for name in os.listdir(self.directory) if name.endswith(ANCHOR_SUFFIX))
        except OSError as error:
            raise AnchorStoreUnavailable(f"cannot read the anchor directory {self.directory}: {error}") from error

    def read(self, name: str) -> bytes:
        try:
            return (self.directory / name).read_bytes()
        except OSError as error:
            raise AnchorStoreUnavailable(f"cannot read the anchor {self.directory / name}: {error}") from error

    def prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def append(self, name: str, data: bytes) -> None:
        temporary = self.directory / f".{uuid.uuid4().hex}.tmp"
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.chmod(temporary, ANCHOR_FILE_MODE)
            os.link(temporary, self.directory / name)  # fails when the name exists: never a replacement
        finally:
            temporary.unlink()
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new name survives a crash too
        finally:
            os.close(directory)


class S3AnchorStore(AnchorStore):
    """Anchors as objects under a prefix in an S3 bucket; enable Object Lock on the bucket (see the README)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket, self.prefix = bucket, prefix
        if client is None:
            import boto3  # pylint: disable=import-outside-toplevel  # only when S3 is configured

            client = boto3.client("s3", endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None)
        self.client = client

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def names(self) -> list[str]:
        names = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                names += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
        except Exception as error:  # botocore's errors share no useful base class
            raise AnchorStoreUnavailable(f"cannot list the anchors in {self.describe()}: {error}") from error
        return sorted(name for name in names if name.endswith(ANCHOR_SUFFIX))

    def read(self, name: str) -> bytes:
        try:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()
            return data
        except Exception as error:  # see names()
            raise AnchorStoreUnavailable(f"cannot read the anchor {self.describe()}{name}: {error}") from error

    def prepare(self) -> None:
        pass  # the bucket, with its Object Lock, is made by whoever administers it

    def append(self, name: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + name,
            Body=data,
            ContentType="application/json",
            IfNoneMatch="*",
        )


def anchor_store() -> AnchorStore:
    """The configured store: ``AUDIT_ANCHOR_S3_BUCKET`` when set, else the directory ``AUDIT_ANCHOR_DIR``."""
    bucket = conf.anchor_s3_bucket()
    if bucket:
        return S3AnchorStore(bucket, conf.anchor_s3_prefix())
    directory = conf.anchor_dir()
    if not directory:
        raise AnchorStoreUnavailable("AUDIT_ANCHOR_DIR is not set")
    return LocalAnchorStore(Path(directory))

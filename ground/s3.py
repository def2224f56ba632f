"""The one S3 writer (and reader): boto3 with a configurable endpoint.

Writes are idempotent: an object whose bytes are already there (same MD5 ETag)
is not written again, so a replay after a crash neither duplicates records nor
piles up locked versions in an Object Lock bucket.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import urllib.parse
from typing import Iterator

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from archiefstroom.ground.config import S3Settings

log = logging.getLogger(__name__)


def client(s: S3Settings):
    return boto3.client(
        "s3", endpoint_url=s.endpoint_url, region_name=s.region,
        aws_access_key_id=s.access_key_id, aws_secret_access_key=s.secret_access_key,
        config=BotoConfig(retries={"max_attempts": s.max_attempts, "mode": "standard"}, connect_timeout=5,
                          read_timeout=s.read_timeout_seconds, s3={"addressing_style": "path"}))


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def ensure_bucket(s: S3Settings, bucket: str | None = None, *, object_lock: bool | None = None) -> bool:
    """Create the bucket if allowed; returns whether Object Lock is enabled on it."""
    bucket = bucket or s.bucket
    c = client(s)
    want_lock = {"on": True, "off": False, "auto": True}[s.object_lock] if object_lock is None else object_lock
    try:
        c.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        if not s.create_bucket:
            raise RuntimeError(f"bucket {bucket!r} does not exist and s3.create_bucket is false") from None
        c.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=want_lock)
    locked = lock_enabled(c, bucket)
    if s.object_lock == "on" and object_lock is None and not locked:
        raise RuntimeError(f"s3.object_lock is 'on' but bucket {bucket!r} has no Object Lock")
    return locked


def lock_enabled(c, bucket: str) -> bool:
    try:
        conf = c.get_object_lock_configuration(Bucket=bucket)
    except ClientError:
        return False
    return conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"


class Writer:
    """Puts objects with tags and, where the bucket has it, a COMPLIANCE lock."""

    def __init__(self, s: S3Settings, bucket: str | None = None, *, object_lock: bool | None = None):
        self.settings = s
        self.bucket = bucket or s.bucket
        self.client = client(s)
        self.locked = ensure_bucket(s, self.bucket, object_lock=object_lock) and s.object_lock != "off"

    def put(self, key: str, body: bytes, *, tags: dict[str, str] | None = None,
            retain_until: dt.date | None = None, legal_hold: bool = False,
            content_type: str = "application/octet-stream", check_existing: bool = True) -> bool:
        """Returns False when identical bytes were already stored under `key` (checked only
        with `check_existing`: the caller knows when a key can already exist)."""
        if check_existing:
            md5 = hashlib.md5(body).hexdigest()
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
                if head.get("ETag", "").strip('"') == md5:
                    return False
            except ClientError as exc:
                if _code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
        self.client.put_object(**self._put_args(key, body, tags, retain_until, legal_hold, content_type))
        return True

    def put_new(self, key: str, body, *, tags: dict[str, str] | None = None, retain_until: dt.date | None = None,
                legal_hold: bool = False, content_type: str = "application/octet-stream") -> bool:
        """Put a content-addressed object (its key names its bytes, `body` a file or bytes) unless
        it is there already; False when it was."""
        if self.head(key) is not None:
            return False
        self.client.put_object(**self._put_args(key, body, tags, retain_until, legal_hold, content_type))
        return True

    def _put_args(self, key, body, tags, retain_until, legal_hold, content_type) -> dict:
        args = dict(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        if tags:
            args["Tagging"] = urllib.parse.urlencode(tags)
        if self.locked and retain_until is not None and retain_until > dt.date.today():
            # a destroy-after date already past (backfills of old content) cannot be a lock
            # date: S3 refuses it; the object still carries its destroy_after tag
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = dt.datetime.combine(retain_until, dt.time(), dt.timezone.utc)
        if self.locked and legal_hold:
            args["ObjectLockLegalHoldStatus"] = "ON"
        return args

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def tags(self, key: str) -> dict[str, str]:
        resp = self.client.get_object_tagging(Bucket=self.bucket, Key=key)
        return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}

    def list(self, prefix: str = "") -> Iterator[dict]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])


    # -- the duties (issue 13): versions, tags, locks and holds of objects already written --------
    def head(self, key: str, version_id: str | None = None) -> dict | None:
        """The object's (or one version's) metadata: ETag, VersionId, size, lock and legal hold;
        None when it is not there."""
        args = {"Bucket": self.bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
        try:
            h = self.client.head_object(**args)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
                return None
            raise
        until = h.get("ObjectLockRetainUntilDate")
        return {"etag": h.get("ETag", "").strip('"'), "version_id": h.get("VersionId"),
                "size": h.get("ContentLength"), "lock_mode": h.get("ObjectLockMode"),
                "lock_until": until.astimezone(dt.timezone.utc) if until else None,
                "legal_hold": h.get("ObjectLockLegalHoldStatus") == "ON"}

    def versions(self, key: str) -> list[dict]:
        """Every version and delete marker of exactly `key`, newest first. A versioned bucket
        (every Object Lock bucket is) keeps old versions: removing data means deleting each."""
        out = []
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
            for v in page.get("Versions", []):
                if v["Key"] == key:
                    out.append({"version_id": v.get("VersionId"), "etag": v.get("ETag", "").strip('"'),
                                "latest": bool(v.get("IsLatest")), "delete_marker": False,
                                "modified": v.get("LastModified")})
            for m in page.get("DeleteMarkers", []):
                if m["Key"] == key:
                    out.append({"version_id": m.get("VersionId"), "etag": None, "latest": bool(m.get("IsLatest")),
                                "delete_marker": True, "modified": m.get("LastModified")})
        return sorted(out, key=lambda v: (not v["latest"], -(v["modified"].timestamp() if v["modified"] else 0)))

    def delete_version(self, key: str, version_id: str | None) -> None:
        """Delete one version for good. S3 itself refuses (AccessDenied) a version under a
        COMPLIANCE lock or a legal hold; the ClientError is the caller's to report.
        Without a version id (an unversioned bucket) the object itself is deleted; in a
        versioned bucket that would only add a delete marker, so callers pass the id."""
        args = {"Bucket": self.bucket, "Key": key}
        if version_id and version_id != "null":
            args["VersionId"] = version_id
        self.client.delete_object(**args)

    def put_tags(self, key: str, tags: dict[str, str], version_id: str | None = None) -> None:
        args = {"Bucket": self.bucket, "Key": key,
                "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}}
        if version_id and version_id != "null":
            args["VersionId"] = version_id
        self.client.put_object_tagging(**args)

    def extend_retention(self, key: str, version_id: str | None, until: dt.date) -> None:
        """COMPLIANCE lock until `until`. S3 refuses to shorten a COMPLIANCE lock; callers
        only ever ask for a later date."""
        args = {"Bucket": self.bucket, "Key": key,
                "Retention": {"Mode": "COMPLIANCE",
                              "RetainUntilDate": dt.datetime.combine(until, dt.time(), dt.timezone.utc)}}
        if version_id and version_id != "null":
            args["VersionId"] = version_id
        self.client.put_object_retention(**args)

    def set_legal_hold(self, key: str, on: bool, version_id: str | None = None) -> None:
        args = {"Bucket": self.bucket, "Key": key, "LegalHold": {"Status": "ON" if on else "OFF"}}
        if version_id and version_id != "null":
            args["VersionId"] = version_id
        self.client.put_object_legal_hold(**args)

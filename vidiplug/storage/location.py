"""S3 locations and credentials as values: parse ``s3://key:secret@bucket/prefix``, never show the secret.

Part of the storage room; imports only errors, settings and logs.redact (no boto3 here)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from vidiplug.errors import ConfigError
from vidiplug.logs import redact
from vidiplug.settings import CallbackSettings, Secret

# Lenient on purpose: AWS's legacy us-east-1 buckets and MinIO allow upper case and "_".
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]")


@dataclass(frozen=True)
class S3Credentials:
    """An access key pair; ``repr`` shows the key id only."""

    access_key_id: str
    secret_access_key: Secret = field(repr=False)


@dataclass(frozen=True)
class S3Uri:
    """The parts of an ``s3://`` URI: credentials (or None), bucket, and the unquoted path."""

    credentials: S3Credentials | None
    bucket: str
    path: str


def split_s3_uri(uri: str) -> S3Uri:
    """Split ``s3://[key:secret@]bucket[/path]``; key and secret are URL-decoded.

    The secret must be URL-encoded where it holds ``/`` (``%2F``), ``@`` or ``%``; ``+``
    may stay as it is. The path is returned unquoted and otherwise untouched (an object
    key may legitimately hold ``//``). Raises ValueError with the URI redacted.
    """
    shown = redact(uri)
    if not uri.lower().startswith("s3://"):
        raise ValueError(f"{shown}: not an s3:// URI")
    netloc, _, path = uri[5:].partition("/")
    if "?" in netloc or "#" in netloc or "?" in path or "#" in path:
        raise ValueError(f"{shown}: query strings and fragments are not part of an S3 location")
    credentials = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        key, colon, secret = userinfo.partition(":")
        if not (key and colon and secret):
            raise ValueError(f"{shown}: credentials must be KEY:SECRET")
        credentials = S3Credentials(unquote(key), Secret(unquote(secret)))
    if not _BUCKET.fullmatch(netloc):
        hint = " (URL-encode a '/' in the secret as %2F)" if ":" in netloc else ""
        raise ValueError(f"{shown if not hint else 's3://***'}: not a valid bucket name{hint}")
    return S3Uri(credentials, netloc, unquote(path))


@dataclass(frozen=True, repr=False)
class S3Location:
    """A bucket and key prefix with optional credentials; ``repr``/``str`` never hold the secret.

    ``prefix`` is normalised: no leading or trailing ``/``, no empty segments ("" = the
    bucket root). ``credentials`` None means boto3's default credential chain.
    """

    bucket: str
    prefix: str = ""
    credentials: S3Credentials | None = None

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """The location ``s3://[key:secret@]bucket[/prefix[/]]`` names.

        Accepts URIs with or without credentials, URL-encoded secrets (``%2F`` for ``/``,
        ``%2B`` or a bare ``+``) and any number of trailing slashes. Raises ConfigError with
        the URI redacted for anything else (another scheme, a bad bucket, ``..`` segments).
        """
        try:
            parts = split_s3_uri(uri.strip())
            prefix = _normalise_prefix(parts.path)
        except ValueError as exc:
            raise ConfigError(f"callback location {exc}") from None
        return cls(parts.bucket, prefix, parts.credentials)

    @classmethod
    def from_settings(cls, settings: CallbackSettings) -> S3Location:
        """The location ``settings`` give, as ``uri`` or as ``bucket`` + ``prefix`` + keys.

        Credentials in the URI win over ``access_key_id``/``secret_access_key``. Raises
        ConfigError when neither ``uri`` nor ``bucket`` is set, or either is invalid.
        """
        if settings.uri.reveal():
            location = cls.parse(settings.uri.reveal())
        elif settings.bucket:
            location = cls.parse(f"s3://{quote(settings.bucket)}/{quote(settings.prefix)}")
        else:
            raise ConfigError("callback: set callback.uri or callback.bucket")
        if location.credentials is None and settings.access_key_id:
            credentials = S3Credentials(settings.access_key_id, settings.secret_access_key)
            return cls(location.bucket, location.prefix, credentials)
        return location

    @property
    def uri(self) -> str:
        """``s3://bucket/prefix/`` without credentials (safe to log)."""
        return f"s3://{self.bucket}/{quote(self.prefix)}{'/' if self.prefix else ''}"

    def uri_with_credentials(self) -> str:
        """``s3://key:secret@bucket/prefix/`` with the secret URL-encoded, for VidiCore's
        callback resource document only; never log it."""
        if self.credentials is None:
            return self.uri
        key = quote(self.credentials.access_key_id, safe="")
        secret = quote(self.credentials.secret_access_key.reveal(), safe="")
        return f"s3://{key}:{secret}@{self.uri[5:]}"

    def key_for(self, name: str) -> str:
        """The object key of ``name`` (a relative key such as ``VX-12/result.json``) here."""
        name = name.lstrip("/")
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"S3Location({self.uri!r})"


def _normalise_prefix(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    for segment in segments:
        if segment in (".", ".."):
            raise ValueError(f"prefix {path!r}: '.' and '..' segments are not allowed")
        if any(unicodedata.category(c)[0] == "C" for c in segment):
            raise ValueError(f"prefix {path!r}: control characters are not allowed")
    return "/".join(segments)

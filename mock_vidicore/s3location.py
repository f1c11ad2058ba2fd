"""Callback locations: `s3://key:secret@bucket/prefix[?endpoint=URL]` parsed, with a secret-free repr.

Imports only the standard library and the error tree; boto3 stays in callbacks.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from mock_vidicore.errors import invalid_input


@dataclass(frozen=True)
class S3Location:
    """Bucket, key prefix (empty or ending in `/`), credentials and optional endpoint URL."""

    bucket: str
    prefix: str
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    endpoint: str | None = None

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Parse a callback URI; key and secret must be percent-encoded if they hold `/`, `@`, `:`.

        Raises 400 `invalidInput` for anything but an `s3://` URI with a bucket.
        """
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.hostname:
            raise invalid_input("uri", "a callback location must be an s3://bucket/prefix URI",
                                value=uri)
        prefix = parts.path.strip("/")
        endpoint = parse_qs(parts.query).get("endpoint", [None])[0]
        return cls(bucket=parts.hostname, prefix=f"{prefix}/" if prefix else "",
                   access_key=unquote(parts.username or ""),
                   secret_key=unquote(parts.password or ""), endpoint=endpoint)

    def job_prefix(self, job_id: str) -> str:
        """Where the files of one job live: `{prefix}{jobId}/`."""
        return f"{self.prefix}{job_id}/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

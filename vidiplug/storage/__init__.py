"""Storage room: callback files to S3 and media from s3://, file:// and http(s):// to disk.

The only room that imports boto3/botocore (and requests for media); imports only errors, settings, logs."""

from __future__ import annotations

from vidiplug.storage.callback_store import BundleFile, CallbackStore
from vidiplug.storage.fetch import fetch_media
from vidiplug.storage.location import S3Credentials, S3Location

__all__ = ["BundleFile", "CallbackStore", "S3Credentials", "S3Location", "fetch_media"]

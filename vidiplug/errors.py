"""The whole vidiplug exception tree; every message is one line: what, where, why.

    VidiplugError                 base
    ├── ConfigError               names the key and the file / environment variable
    ├── MediaError                names the file and the reason (missing, corrupt, unsupported)
    ├── EngineError               a face engine could not be built or run
    │   └── ModelNotFound         says where it looked and how to install a model
    ├── StoreError                the identity store could not be read or written
    ├── JobParameterError         names the cognitive_service_ parameter and the bad value
    └── StorageError              names the bucket/key (or redacted URL) and the S3 error code or reason

Imports nothing from vidiplug: every room may raise these.
"""

from __future__ import annotations


class VidiplugError(Exception):
    """Base of every error vidiplug raises on purpose; ``str(exc)`` is one line."""


class ConfigError(VidiplugError):
    """A setting is missing or malformed; the message names the key and where it came from."""


class MediaError(VidiplugError):
    """A media file is missing, corrupt or unsupported; the message names the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EngineError(VidiplugError):
    """A face engine could not be loaded or failed on an input."""


class ModelNotFound(EngineError):
    """Model files are absent; the message says where we looked and how to install them."""


class StoreError(VidiplugError):
    """The identity store is unreadable, locked or holds vectors of another engine."""


class JobParameterError(VidiplugError):
    """A per-job parameter is unknown or malformed; the message names the parameter."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"{name}={value!r}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class StorageError(VidiplugError):
    """An object store or media download failed: ``"bucket/key: code"``, no credentials.

    ``where`` is ``bucket/key`` (or a URL already stripped of credentials), ``reason`` the
    S3 error code (``NoSuchBucket``, ``AccessDenied``, …) or a short explanation; ``code``
    keeps the S3 error code or HTTP status alone for callers that branch on it.
    """

    def __init__(self, where: str, reason: str, *, code: str = "") -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
        self.code = code

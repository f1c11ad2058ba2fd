"""The whole vidiplug exception tree; every message is one line: what, where, why.

    VidiplugError                 base
    ├── ConfigError               names the key and the file / environment variable
    │   └── InvalidSetting        a setting's value is out of range (.key, .reason); also a ValueError
    ├── ParameterError            names the parameter and the bad value (AnalyzeParams and friends)
    │   └── JobParameterError     names the cognitive_service_ parameter and the bad value
    ├── MediaError                names the file and the reason (missing, corrupt, unsupported)
    ├── ImageRejected             a training image holds no usable face; says why
    ├── EngineError               a face engine could not be built or run
    │   └── ModelNotFound         says where it looked and how to install a model
    ├── StoreError                the identity store could not be read or written
    ├── TimecodeError             a time code or time base is malformed; quotes the text
    ├── MetadataError             a MetadataDocument cannot be built or read (analyzer id, hostile XML)
    ├── CallbackError             a callback bundle cannot be built (missing script, unsafe input)
    ├── DemoError                 a demo step did not produce what the workflow promises
    ├── ModelError                a custom-insight model failed: .model, .field at fault, .reason
    │   └── ModelUnavailable      an HTTP model: no connection, timeout, 5xx: tried again with backoff
    ├── VidiCoreError             .method, .path (under /API), .status, short .body; never credentials
    │   ├── VidiCoreUnavailable   no connection, timeout, 502/503/504: safe to retry idempotent calls
    │   ├── NotFound              404: the path names what is missing
    │   ├── Unauthorized          401/403: credentials refused or role missing
    │   ├── Conflict              409: the entity is not in a state that allows the call
    │   │   └── JobAlreadyClaimed another instance won the claim (or the job is no longer READY)
    │   └── DocumentError         VidiCore answered, but its document lacks what vidiplug needs
    └── StorageError              names the bucket/key (or redacted URL) and the S3 error code or reason
        └── StorageUnavailable    no connection, timeout, 5xx or throttling: safe to retry idempotent writes

Every exception class vidiplug defines lives here (a test walks the package to check).
Imports nothing from vidiplug: every room may raise these.
"""

from __future__ import annotations


class VidiplugError(Exception):
    """Base of every error vidiplug raises on purpose; ``str(exc)`` is one line."""


class ConfigError(VidiplugError):
    """A setting is missing or malformed; the message names the key and where it came from."""


class InvalidSetting(ConfigError, ValueError):
    """A setting's value is out of range: ``"key: reason"``. ``load_settings`` turns it into a
    ConfigError that also says where the value came from; it stays a ValueError for code that
    builds a settings dataclass directly."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class MediaError(VidiplugError):
    """A media file is missing, corrupt or unsupported; the message names the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ImageRejected(VidiplugError):
    """A training image holds no usable face; ``str`` is the reason (no face, several faces, too small)."""


class EngineError(VidiplugError):
    """A face engine could not be loaded or failed on an input."""


class ModelNotFound(EngineError):
    """Model files are absent; the message says where we looked and how to install them."""


class StoreError(VidiplugError):
    """The identity store is unreadable, locked or holds vectors of another engine."""


class TimecodeError(VidiplugError):
    """A time code or time base is malformed; the message quotes the text."""


class MetadataError(VidiplugError):
    """A metadata document cannot be built or read: bad analyzer id, malformed or hostile XML."""


class CallbackError(VidiplugError):
    """A callback bundle cannot be built: a script is missing, or an input cannot be handed over safely."""


class ScriptFailed(CallbackError):
    """A callback script the service runs itself (direct mode) threw, ran out of time or memory,
    or its CallbackDocument was unreadable."""


class DemoError(VidiplugError):
    """A demo step did not produce what the workflow promises."""


class ModelError(VidiplugError):
    """A custom-insight model (an in-process or HTTP plugin) failed or answered outside the contract.

    ``model`` is the model's name, ``field`` the answer's field at fault (``results[2].instances[0].start``,
    ``answer`` for the answer as a whole, ``request`` for the call itself), ``reason`` one line.
    """

    def __init__(self, model: str, field: str, reason: str) -> None:
        self.model, self.field, self.reason = model, field, reason
        super().__init__(f"model {model}: {field}: {reason}")


class ModelUnavailable(ModelError):
    """An HTTP model could not be reached, did not answer in time or failed inside (5xx): a retry may succeed."""


SHOWN_CHARS = 80
"""How much of an outside value (a job parameter's name or value) a message shows."""


def excerpt(text: str, limit: int = SHOWN_CHARS) -> str:
    """``repr(text)``, cut to its first ``limit`` characters with the full length said when longer.

    ``excerpt("x" * 10000)`` is ``'xxx…x'… (10000 characters)``: a 10 kB parameter value
    never lands whole in a failure reason or a log line.
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


class ParameterError(VidiplugError):
    """A parameter is out of range or malformed: ``"name=value: reason"``, one line.

    The message shows at most SHOWN_CHARS characters of the name and of a text value (see
    ``excerpt``); ``name``, ``value`` and ``reason`` keep them whole.
    """

    def __init__(self, name: str, value: object, reason: str) -> None:
        shown_name = name if len(name) <= SHOWN_CHARS else excerpt(name)
        shown_value = excerpt(value) if isinstance(value, str) else repr(value)
        super().__init__(f"{shown_name}={shown_value}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class JobParameterError(ParameterError):
    """A per-job ``cognitive_service_`` parameter is unknown or malformed; the message names it and its text."""


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


class StorageUnavailable(StorageError):
    """S3 could not be reached, timed out, failed inside (5xx) or asked us to slow down: a retry may succeed."""


class VidiCoreError(VidiplugError):
    """A VidiCore REST call failed: ``"PUT job/VX-3/claim: HTTP 409 conflict ..."``, one line.

    ``method`` and ``path`` (relative to ``/API``, without the query) say which call,
    ``status`` the HTTP status (None when no answer came), ``body`` the first few hundred
    characters of the answer. Whoever raises it passes text already stripped of credentials
    (``vidiplug.logs.redact``): this module cannot import the redactor.
    """

    def __init__(self, reason: str, *, method: str = "", path: str = "", status: int | None = None,
                 body: str = "") -> None:
        where = f"{method} {path}".strip()
        code = f"HTTP {status} " if status is not None else ""
        message = " ".join(f"{where + ': ' if where else ''}{code}{reason}".split())  # one line
        super().__init__(message)
        self.reason = reason
        self.method = method
        self.path = path
        self.status = status
        self.body = body


class VidiCoreUnavailable(VidiCoreError):
    """VidiCore could not be reached or did not answer in time (or answered 502/503/504)."""


class NotFound(VidiCoreError):
    """404: the item, job, collection, resource or path does not exist."""


class Unauthorized(VidiCoreError):
    """401/403: VidiCore refused the user name and password, or the user lacks a role."""


class Conflict(VidiCoreError):
    """409: the entity exists already or is in a state that does not allow the call."""


class JobAlreadyClaimed(Conflict):
    """Another service instance claimed the job first, or it is no longer READY."""


class DocumentError(VidiCoreError):
    """VidiCore's answer is not the document expected; the message names what is missing."""

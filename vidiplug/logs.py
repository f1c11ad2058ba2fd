"""Logging setup and the filter that keeps secrets out of every log line; redact() for errors.

Imports nothing from vidiplug but errors; every room may use redact()."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import quote, quote_plus

from vidiplug.errors import ConfigError

MASK = "***"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
HANDLER_NAME = "vidiplug"
MIN_SECRET_CHARS = 4  # shorter explicit "secrets" would blank out ordinary words

# Credentials in a URI authority: scheme://key:secret@host. The secret may hold an
# un-encoded "/" or "@", so everything up to the last "@" before a space or quote goes.
_URI_CREDENTIALS = re.compile(r"(//)[^\s/@'\"<>]*:[^\s'\"<>]*@")
# Header values, as a log line, a dict repr or JSON: Authorization: Basic ..., 'authorization': b'...'.
_HEADERS = re.compile(
    r"(?i)((?:proxy-)?authorization|x-amz-security-token)(['\"]?\s*[:=]\s*)(?:b?(['\"]).*?\3|[^\r\n]*)"
)
# Query parameters and key=value pairs whose name says it is a secret.
_SECRET_PARAMS = re.compile(
    r"(?i)([\w.-]*(?:password|passwd|pwd|secret|token|signature|api[_-]?key)[\w.-]*=)[^&\s'\"<>,;]+"
)
# The same names as dict keys or JSON members: "password": "x", 'secret_key': 'x'.
_SECRET_MEMBERS = re.compile(
    r"(?i)(['\"][\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*['\"]\s*:\s*)(b?)(['\"]).*?\3"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credentials replaced by ``***``.

    Scrubs ``//key:secret@`` in URIs of any scheme, ``Authorization:`` (and
    ``Proxy-Authorization``, ``X-Amz-Security-Token``) header values, ``password=``,
    ``secret=``, ``token=``, ``signature=``-like parameters and dict/JSON members, and every
    string in ``secrets`` (also URL-encoded). Secrets shorter than MIN_SECRET_CHARS are
    ignored. Over-redaction is preferred to a leak: an ``@`` in a URL's path can blank out
    the part before it.
    """
    for secret in _variants(secrets):
        text = text.replace(secret, MASK)
    text = _URI_CREDENTIALS.sub(rf"\1{MASK}:{MASK}@", text)
    text = _HEADERS.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}{m.group(3) or ''}", text)
    text = _SECRET_PARAMS.sub(rf"\1{MASK}", text)
    return _SECRET_MEMBERS.sub(lambda m: f"{m.group(1)}{m.group(3)}{MASK}{m.group(3)}", text)


def _variants(secrets: Iterable[str]) -> list[str]:
    found: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_SECRET_CHARS:
            found.update((secret, quote(secret, safe=""), quote_plus(secret, safe="")))
    return sorted(found, key=len, reverse=True)  # longest first: no half-replaced secret


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record passing through it (see ``redact``).

    It rewrites the record itself: the message is merged with its args and redacted, the
    exception and stack text are formatted and redacted, and ``exc_info`` is cleared so no
    later formatter can print the raw exception again. Put it on a *handler* (filters on a
    logger do not see records propagated from child loggers). ``secrets``: exact strings to
    scrub besides the patterns, e.g. ``Settings.secrets()``; add more with ``add_secret``.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = [s for s in secrets if s]

    def add_secret(self, secret: str) -> None:
        """Scrub ``secret`` from now on (e.g. a key learned from VidiCore at run time)."""
        if secret:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always lets it through."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not escape into the caller's code
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message, self._secrets), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


def setup_logging(level: int | str = "INFO", stream: TextIO | None = None, *,
                  secrets: Iterable[str] = (), fmt: str = LOG_FORMAT) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (default stderr), redacted.

    Installs one handler on the root logger, so records from boto3, requests and
    apscheduler are redacted too; calling it again replaces that handler rather than adding
    a second. ``level``: a name (DEBUG, INFO, WARNING, ERROR) or a logging number.
    ``secrets``: exact strings to scrub besides the patterns (``Settings.secrets()``).
    Returns the handler (its RedactingFilter is ``handler.filters[0]``). Raises ConfigError
    for an unknown level name.
    """
    if isinstance(level, str):
        number = logging.getLevelName(level.upper())
        if not isinstance(number, int):
            raise ConfigError(f"log level {level!r}: choose DEBUG, INFO, WARNING or ERROR")
        level = number
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler

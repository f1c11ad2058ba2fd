"""Secret scrubbing for log lines and error texts: `scheme://key:secret@` loses its credentials.

Pure string functions; imports only the standard library.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*\S+\s+)\S+")


def redact(text: str) -> str:
    """Return ``text`` with any URI user-info (``key:secret@``) and Authorization value masked.

    User-info is masked before percent-decoding too, so a key holding ``%2F``
    (``s3://AKIA%2FX:secret@bucket``) is caught whole rather than split at the
    decoded ``/``; then the text is decoded and masked again, so percent-encoded
    URIs (as in query strings, ``s3%3A%2F%2Fkey%3Asecret%40bucket``) are caught.
    """
    text = _USERINFO.sub(r"\1***@", text)
    if "%" in text:
        text = unquote(text)
        text = _USERINFO.sub(r"\1***@", text)
    return _AUTH_HEADER.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """A logging filter that formats each record once and redacts the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True

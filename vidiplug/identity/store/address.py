"""Store addresses: a SQLite path or a ``postgresql://`` URL, and how to show one without its password."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_QUERY_PASSWORD = re.compile(r"(?i)(password=)[^&]*")


def is_postgres_url(url: str) -> bool:
    """True when ``url`` names a PostgreSQL database rather than a SQLite file."""
    return url.strip().lower().startswith(POSTGRES_SCHEMES)


def url_password(url: str) -> str:
    """The password in a ``postgresql://`` URL (user info or ``?password=``), decoded; "" when none."""
    if not is_postgres_url(url):
        return ""
    parts = urlsplit(url)
    if parts.password:
        return unquote(parts.password)
    found = re.search(r"(?i)(?:^|&)password=([^&]*)", parts.query)
    return unquote(found.group(1)) if found else ""


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (a path is returned as it is)."""
    if not is_postgres_url(url):
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, _QUERY_PASSWORD.sub(r"\1***", parts.query), parts.fragment))

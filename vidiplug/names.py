"""The rule for ids and file names that become S3 keys and VidiCore API path segments.

Letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at most 200
characters, and no ``..``: a whitelist keeps "/", control characters, quotes and spaces
out. Imports nothing; the callbacks and storage rooms both check names with it.
"""

from __future__ import annotations

import re

SAFE_NAME_RULE = "use letters, digits, '.', '_', '-'"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def is_safe_name(value: object) -> bool:
    """True when ``value`` is a str that may be used as an S3 key part or an API path segment."""
    return isinstance(value, str) and _SAFE_NAME.fullmatch(value) is not None and ".." not in value

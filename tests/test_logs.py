"""Log redaction: no secret reaches formatted output, in messages, args or logged tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from vidiplug.errors import ConfigError, StorageError
from vidiplug.logs import redact, setup_logging

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # given to the filter explicitly
URI = "s3://AKIAEXAMPLE:uri-s3cr3t%2Fzz@example-bucket/callbacks/"
LEAKS = ["uri-s3cr3t", "wJalrXUtnFEMI", "K7MDENG", "YWRtaW46aHVudGVy", "hunter2-pw", "tok-9f8e"]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, formatted through setup_logging's handler."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = setup_logging("DEBUG", stream, secrets=[AWS_SECRET])
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _assert_clean(text: str) -> None:
    assert [leak for leak in LEAKS if leak in text] == []


@pytest.mark.parametrize("message, args", [
    (f"uploading to {URI}", ()),
    ("uploading to %s", (URI,)),
    ("request headers %s", ({"Authorization": "Basic YWRtaW46aHVudGVy", "Accept": "application/xml"},)),
    ("sending\nAuthorization: Basic YWRtaW46aHVudGVy\nAccept: */*", ()),
    ("GET %s", ("http://vidicore:8080/API/item?password=hunter2-pw&token=tok-9f8e",)),
    ("vidinet resource %s", ("vidinet://abc:hunter2-pw@def",)),
    ("configured with key %s", (AWS_SECRET,)),
    ("encoded key %s", ("wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY",)),
    ("%s and %d", (URI, 3)),
])
def test_secrets_never_reach_formatted_output(log_output: io.StringIO, message: str, args: tuple[object, ...]) -> None:
    logging.getLogger("vidiplug.test").info(message, *args)

    _assert_clean(log_output.getvalue())
    assert log_output.getvalue().strip()


def test_logged_traceback_is_redacted(log_output: io.StringIO) -> None:
    log = logging.getLogger("vidiplug.test")

    try:
        try:
            raise RuntimeError(f"connect failed for {URI} with {AWS_SECRET}")
        except RuntimeError as exc:
            raise StorageError(URI, "AccessDenied") from exc
    except StorageError:
        log.exception("callback upload to %s failed", URI)

    output = log_output.getvalue()
    _assert_clean(output)
    assert "Traceback (most recent call last)" in output
    assert "RuntimeError: connect failed for s3://***:***@example-bucket/callbacks/" in output
    assert "StorageError" in output


def test_other_libraries_records_are_redacted_too(log_output: io.StringIO) -> None:
    logging.getLogger("botocore.endpoint").debug("headers: {'Authorization': b'AWS4-HMAC-SHA256 Credential=x'}")

    assert "AWS4-HMAC" not in log_output.getvalue()


def test_a_record_whose_args_do_not_fit_is_still_written(log_output: io.StringIO) -> None:
    logging.getLogger("vidiplug.test").warning("two %s %s", URI)

    _assert_clean(log_output.getvalue())
    assert "two" in log_output.getvalue()


def test_setup_logging_twice_keeps_one_handler(log_output: io.StringIO) -> None:
    second = setup_logging("INFO", log_output)

    assert [h for h in logging.getLogger().handlers if h.get_name() == "vidiplug"] == [second]


def test_unknown_level_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="LOUD"):
        setup_logging("LOUD", io.StringIO())


@pytest.mark.parametrize("text, expected", [
    ("s3://KEY:SECRET@bucket/prefix", "s3://***:***@bucket/prefix"),
    ("s3://KEY:SEC/RET@bucket/prefix", "s3://***:***@bucket/prefix"),
    ("https://user:pw@host/x and more", "https://***:***@host/x and more"),
    ("Authorization: token abc123", "Authorization: ***"),
    ('{"authorization": "Basic abc", "x": 1}', '{"authorization": "***", "x": 1}'),
    ("?secret=abc&page=2", "?secret=***&page=2"),
    ("X-Amz-Signature=abc123&X-Amz-Date=1", "X-Amz-Signature=***&X-Amz-Date=1"),
    ("{'password': 'hunter2'}", "{'password': '***'}"),
    ("http://localhost:8080/API/item/VX-1", "http://localhost:8080/API/item/VX-1"),
    ("s3://example-bucket/prefix/", "s3://example-bucket/prefix/"),
    ("user@example.com wrote", "user@example.com wrote"),
])
def test_redact_scrubs_credentials_and_leaves_the_rest(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_ignores_secrets_too_short_to_be_real() -> None:
    assert redact("a b c", secrets=["", "a"]) == "a b c"

"""Every line ``vidiplug check`` and ``vidiplug serve`` print, ok or FAIL, goes through the redactor.

A password in the VidiCore URL (``http://user:PW@host``) used to appear in check's "ok"
line; only FAIL lines were redacted. Here the secrets are in the URL, the password
setting and the S3 callback URI, and the whole output of real processes is searched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from faults_b import CALLBACK_SECRET, run_vidiplug, served_resource, write_config
from operator_api import Operator

URL_PASSWORD = "Url-Pa55word-7f3"


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc}"))


def test_check_redacts_a_password_in_the_vidicore_url_from_its_ok_lines(mock_url: str, s3_endpoint: str,
                                                                        callback_bucket: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "vidiplug.toml", with_credentials(mock_url, "admin", URL_PASSWORD), s3_endpoint,
                          callback_bucket, tmp_path / "store.sqlite", resource="secret-url")

    done = run_vidiplug("check", "--config", str(config))

    assert done.returncode == 0, done.stdout + done.stderr
    vidicore_line = next(line for line in done.stdout.splitlines() if "VidiCore at" in line)
    assert vidicore_line.startswith("ok") and "***" in vidicore_line
    assert URL_PASSWORD not in done.stdout + done.stderr
    assert CALLBACK_SECRET not in done.stdout + done.stderr


def test_check_redacts_secrets_from_fail_lines_too(mock_url: str, s3_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "vidiplug.toml", with_credentials(mock_url, "admin", URL_PASSWORD), s3_endpoint,
                          "no-such-bucket-for-secrets", tmp_path / "store.sqlite", resource="secret-fail",
                          password=URL_PASSWORD)

    done = run_vidiplug("check", "--config", str(config), env={"VIDIPLUG_VIDICORE__TIMEOUT_S": "5"})

    assert done.returncode == 2
    assert any(line.startswith("FAIL") for line in done.stdout.splitlines())
    assert URL_PASSWORD not in done.stdout + done.stderr
    assert CALLBACK_SECRET not in done.stdout + done.stderr


def test_a_config_error_naming_a_url_with_credentials_is_redacted(tmp_path: Path) -> None:
    config = tmp_path / "vidiplug.toml"
    config.write_text(f'[vidicore]\nurl = "ftp://admin:{URL_PASSWORD}@vidicore.example"\n', encoding="utf-8")

    done = run_vidiplug("check", "--config", str(config))

    assert done.returncode == 2 and "vidicore.url" in done.stderr
    assert URL_PASSWORD not in done.stdout + done.stderr


def test_serve_prints_and_logs_no_secret_from_the_url_or_the_callback_uri(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, serve: Any, tmp_path: Path,
        data_dir: Path) -> None:
    config = write_config(tmp_path / "vidiplug.toml", with_credentials(mock_url, "admin", URL_PASSWORD), s3_endpoint,
                          callback_bucket, tmp_path / "store.sqlite", resource="secret-serve",
                          extra="status_port = -1\nlog_level = \"DEBUG\"\n")
    served = serve(config, "secretive")
    resource_id, callback_id = served_resource(operator, callback_bucket, served)
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")

    job = operator.wait_job(operator.analyze(item, resource_id, callback_id))
    assert served.stop() == 0

    assert job["status"] == "FINISHED", job
    output = served.output()
    assert "serving as resource" in output
    assert URL_PASSWORD not in output and CALLBACK_SECRET not in output

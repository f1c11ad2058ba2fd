"""Every failure of a job is reported at once: set-up faults fail the job with a reason and a logged traceback.

A ``vidiplug serve`` process whose work_dir is missing used to leave every job STARTED
with no log line until another instance took it over, ``claim_timeout_s`` later; and
``vidiplug check`` said all was well. The claim timeout here is an hour, so only the job's
own failure report can end it within the test's wait.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faults_b import run_vidiplug, served_resource, write_config
from operator_api import Operator, job_data

NO_TAKEOVER = "claim_timeout_s = 3600\nstatus_port = -1\n"


def test_a_missing_work_dir_fails_the_job_at_once_with_the_reason_and_a_logged_traceback(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, serve: Any, tmp_path: Path,
        data_dir: Path) -> None:
    missing = tmp_path / "no-such-work-dir"
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource="workdir-missing",
                          extra=f'{NO_TAKEOVER}work_dir = "{missing}"\n')
    served = serve(config, "no-workdir")
    resource_id, callback_id = served_resource(operator, callback_bucket, served)
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")

    job = operator.wait_job(operator.analyze(item, resource_id, callback_id), timeout_s=120)

    assert job["status"] == "FAILED_TOTAL", job
    reason = job_data(job)["failureReason"]
    assert "service.work_dir" in reason and str(missing) in reason, reason
    line = served.wait_line(f"job {job['jobId']} failed")
    assert str(missing) in line
    output = served.output()
    assert "Traceback (most recent call last)" in output and "FileNotFoundError" in output, output[-3000:]


def test_the_next_job_fails_too_and_the_service_keeps_polling(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, serve: Any, tmp_path: Path,
        data_dir: Path) -> None:
    work_dir = tmp_path / "not-a-folder"
    work_dir.write_text("a file where the folder should be\n", encoding="utf-8")
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource="workdir-file",
                          extra=f'{NO_TAKEOVER}workers = 1\nwork_dir = "{work_dir}"\n')
    served = serve(config, "file-workdir")
    resource_id, callback_id = served_resource(operator, callback_bucket, served)
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")

    jobs = [operator.wait_job(operator.analyze(item, resource_id, callback_id), timeout_s=120) for _ in range(2)]

    assert [job["status"] for job in jobs] == ["FAILED_TOTAL", "FAILED_TOTAL"]
    assert all(str(work_dir) in job_data(job)["failureReason"] for job in jobs)


def test_check_verifies_work_dir_store_folder_and_cache_exist_are_writable_and_have_room(
        mock_url: str, s3_endpoint: str, callback_bucket: str, tmp_path: Path) -> None:
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource="check-folders", extra=f'work_dir = "{work_dir}"\n')

    done = run_vidiplug("check", "--config", str(config))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok") and f"service.work_dir {work_dir} is writable" in line and "free" in line
               for line in lines), lines
    assert any(line.startswith("ok") and f"store.path's folder {tmp_path} is writable" in line for line in lines)
    assert any(line.startswith("ok") and "engine cache" in line and "free" in line for line in lines)


def test_check_fails_a_missing_work_dir_and_folders_without_room(mock_url: str, s3_endpoint: str,
                                                                 callback_bucket: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource="check-folders-bad",
                          extra=f'work_dir = "{missing}"\nmin_free_bytes = {2**62}\n')

    done = run_vidiplug("check", "--config", str(config))

    assert done.returncode == 2
    failures = {line.split()[1]: line for line in done.stdout.splitlines() if line.startswith("FAIL")}
    assert set(failures) == {"work_dir:", "store:", "cache:"}, done.stdout
    assert f"{missing}: does not exist" in failures["work_dir:"]
    assert "free, below service.min_free_bytes" in failures["store:"]
    assert "free, below service.min_free_bytes" in failures["cache:"]

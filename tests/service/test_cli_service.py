"""`vidiplug check` and `vidiplug serve` as a user runs them: real processes against the mock and moto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from operator_api import Operator
from postgres_server import PostgresServer
from support import wait_for

SECRET = "s3cr3t-Pa55word"


def write_config(path: Path, mock_url: str, s3_endpoint: str, bucket: str, store: Path, *, password: str = "admin",
                 resource: str = "vidiplug-cli", mode: str = "bridge") -> Path:
    path.write_text(
        f'[vidicore]\nurl = "{mock_url}"\nuser = "admin"\npassword = "{password}"\nresource_name = "{resource}"\n'
        f'mode = "{mode}"\n'
        f'[callback]\nuri = "s3://test:{SECRET}@{bucket}/callbacks/"\nendpoint_url = "{s3_endpoint}"\n'
        f'[store]\npath = "{store}"\n'
        f'[service]\npoll_interval_s = 0.2\nautotrain = false\n'
        f'[engine]\nname = "dlib"\n', encoding="utf-8")
    return path


def vidiplug(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidiplug", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_check_passes_against_a_reachable_vidicore_and_bucket(tmp_path: Path, mock_url: str, s3_endpoint: str,
                                                              callback_bucket: str) -> None:
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket, tmp_path / "s.sqlite",
                          mode="direct")

    done = vidiplug("check", "--config", str(config))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok", "mode"] + ["ok"] * 7
    assert lines[1].startswith("mode  direct") and "analysis queue 'FaceAnalysisQueue'" in lines[2]
    assert any("callback location" in line and "writable" in line for line in lines)
    assert any("face engine dlib" in line for line in lines)
    assert lines[-1].startswith("ok    custom models: shot-type (in-process)")
    assert SECRET not in done.stdout + done.stderr


def test_check_names_each_problem_on_one_line_and_hides_secrets(tmp_path: Path, mock_url: str,
                                                                s3_endpoint: str) -> None:
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, "no-such-bucket-here",
                          tmp_path / "s.sqlite", password=SECRET)

    done = vidiplug("check", "--config", str(config))

    assert done.returncode == 2
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert [line.split()[1] for line in failures] == ["vidicore:", "callback:"], done.stdout
    assert "401" in failures[0] or "nauthori" in failures[0]
    assert "no-such-bucket-here" in failures[1]
    assert SECRET not in done.stdout + done.stderr


def test_check_opens_a_postgresql_store_and_never_shows_its_password(
        tmp_path: Path, mock_url: str, s3_endpoint: str, callback_bucket: str, postgres_server: PostgresServer) -> None:
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket, tmp_path / "s.sqlite")
    with postgres_server.database() as url:
        reachable = url.replace("vidiplug@", f"vidiplug:{SECRET}@")  # trust auth: accepted, never needed
        unreachable = f"postgresql://vidiplug:{SECRET}@127.0.0.1:{postgres_server.port}/no_such_database"

        opened = vidiplug("check", "--config", str(config),
                          env={"VIDIPLUG_STORE__PATH": "", "VIDIPLUG_STORE__URL": reachable})
        refused = vidiplug("check", "--config", str(config),
                           env={"VIDIPLUG_STORE__PATH": "", "VIDIPLUG_STORE__URL": unreachable})

    [store_ok] = [line for line in opened.stdout.splitlines() if "identity store" in line]
    [store_failed] = [line for line in refused.stdout.splitlines() if line.split()[:2] == ["FAIL", "store:"]]
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert store_ok.startswith("ok") and ":***@127.0.0.1" in store_ok and "(0 identities)" in store_ok
    assert refused.returncode == 2 and "no_such_database" in store_failed
    assert SECRET not in opened.stdout + opened.stderr + refused.stdout + refused.stderr


def test_check_rejects_a_malformed_config_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[service]\nworkers = 'many'\n", encoding="utf-8")

    done = vidiplug("check", "--config", str(config))

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "service.workers" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_registers_runs_jobs_and_stops_on_sigterm(tmp_path: Path, mock_url: str, s3_endpoint: str,
                                                        callback_bucket: str, operator: Operator,
                                                        data_dir: Path) -> None:
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket, tmp_path / "s.sqlite",
                          resource="vidiplug-serve")
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "vidiplug", "serve", "--config", str(config)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                               env={**os.environ, "VIDIPLUG_SERVICE__WORKERS": "1"})
    try:
        def our_resource() -> str | None:
            doc = operator.call("GET", "resource/vidinet") or {}
            found = [r for r in doc.get("resource", []) if r.get("vidinet", {}).get("url") == "vidinet://vidiplug-serve@vidiplug"]
            return str(found[0]["id"]) if found else None

        # Registration ends with the "serving" line: only then do its resources all exist.
        wait_for(lambda: True if "serving as resource" in (tmp_path / "serve.log").read_text() else None, 90,
                 "the service to finish registering")
        resource_id = wait_for(our_resource, 10, "the service's resource")
        callbacks = (operator.call("GET", "resource/callback") or {}).get("resource", [])
        callback_id = next(str(r["id"]) for r in callbacks if callback_bucket in r["callback"]["uri"])
        item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")
        job = operator.wait_job(operator.analyze(item, resource_id, callback_id))
        assert job["status"] == "FINISHED", job
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        log.seek(0)
        output = log.read()
        log.close()
    assert code == 0, output
    assert SECRET not in output
    assert "serving as resource" in output

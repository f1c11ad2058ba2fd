"""Operations hygiene: /health and /metrics tell the truth, parameter values are cut, polls do not flood INFO.

Real services against the mock and moto: in-process ServiceApps (a gated engine, handed in
through the constructor, holds a job running) and one ``vidiplug serve`` process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from faults_b import GatedEngine, served_resource, write_config
from operator_api import Operator, job_data
from support import wait_for
from vidiplug.service.app import ServiceApp

HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"
OBAMA = "face_recognition/examples/obama.jpg"


def get_health(app: ServiceApp) -> tuple[int, dict[str, Any]]:
    assert app.status_server is not None
    response = requests.get(f"{app.status_server.url}/health", timeout=30)
    return response.status_code, response.json()


def metric_samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``url``/metrics by (name, sorted labels)."""
    text = requests.get(f"{url}/metrics", timeout=30).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_health_reports_the_resource_the_last_poll_a_running_job_and_reachable_stores(
        service_app: Callable[..., ServiceApp], dlib_engine: Any, operator: Operator, data_dir: Path) -> None:
    engine = GatedEngine(dlib_engine)
    app = service_app(engine=engine, service__status_port=0)
    reg = app.registration
    assert reg is not None
    job_id = operator.analyze(operator.import_file(data_dir / HAMILTON), reg.resource_id, reg.callback_id)
    assert engine.entered.wait(60), "the job never reached face detection"

    status, running = get_health(app)
    engine.gate.set()
    operator.wait_job(job_id)
    idle = wait_for(lambda: (lambda h: h if not h[1]["running_jobs"] else None)(get_health(app)), 60,
                    "the job to leave running_jobs")

    assert status == 200 and running["status"] == "ok", running
    assert running["resource_id"] == reg.resource_id and running["callback_id"] == reg.callback_id
    assert running["instance"] == app.instance
    assert running["running_jobs"] == [job_id]
    assert running["last_poll"] is not None and running["last_poll_age_s"] >= 0
    assert running["identity_store"] == {"reachable": True, "error": None}
    assert running["callback_store"] == {"reachable": True, "error": None}
    assert idle[0] == 200 and idle[1]["running_jobs"] == []


def test_health_is_degraded_with_the_reason_when_the_callback_bucket_is_gone(
        service_app: Callable[..., ServiceApp], s3: Any, callback_bucket: str) -> None:
    app = service_app(service__status_port=0)
    s3.delete_bucket(Bucket=callback_bucket)

    status, health = get_health(app)

    assert status == 503 and health["status"] == "degraded"
    assert health["callback_store"]["reachable"] is False
    assert callback_bucket in health["callback_store"]["error"]
    assert health["identity_store"]["reachable"] is True


def test_metrics_count_jobs_by_outcome_duration_faces_realtime_factor_and_errors(
        service_app: Callable[..., ServiceApp], operator: Operator, data_dir: Path) -> None:
    app = service_app(service__status_port=0)
    reg = app.registration
    assert reg is not None and app.status_server is not None
    item = operator.import_file(data_dir / HAMILTON)
    good = operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id))
    bad = operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id, ConfidenceThreshold="lots"))
    url = app.status_server.url

    samples = wait_for(lambda: (lambda s: s if total(s, "vidiplug_jobs_total") == 2 else None)(metric_samples(url)),
                       60, "both jobs to be counted")

    assert (good["status"], bad["status"]) == ("FINISHED", "FAILED_TOTAL")
    assert total(samples, "vidiplug_jobs_total", outcome="handed_back") == 1
    assert total(samples, "vidiplug_jobs_total", outcome="failed") == 1
    assert total(samples, "vidiplug_jobs_running") == 0
    assert total(samples, "vidiplug_job_duration_seconds_count") == 2
    assert total(samples, "vidiplug_faces_total") >= 1
    assert total(samples, "vidiplug_people_total") >= 1
    assert total(samples, "vidiplug_realtime_factor_count") == 1 and total(samples, "vidiplug_realtime_factor_sum") > 0
    assert total(samples, "vidiplug_media_seconds_total") > 9
    assert total(samples, "vidiplug_errors_total", where="job", error="JobParameterError") == 1
    assert total(samples, "vidiplug_last_poll_success_timestamp_seconds") > 0


def test_a_10_kb_parameter_value_is_cut_in_the_failure_reason_and_the_log(
        service_app: Callable[..., ServiceApp], operator: Operator, data_dir: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    app = service_app()
    reg = app.registration
    assert reg is not None
    value = "9" * 10_000

    job = operator.wait_job(operator.analyze(operator.import_file(data_dir / OBAMA), reg.resource_id, reg.callback_id,
                                   ConfidenceThreshold=value))

    reason = job_data(job)["failureReason"]
    assert job["status"] == "FAILED_TOTAL"
    assert "cognitive_service_ConfidenceThreshold" in reason and "(10000 characters)" in reason
    assert len(reason) < 300, len(reason)
    lines = wait_for(lambda: [r.getMessage() for r in caplog.records if f"job {job['jobId']} failed" in r.getMessage()],
                     30, "the failure's log line")
    assert all(len(line) < 400 and "(10000 characters)" in line for line in lines), lines
    assert not any(value in r.getMessage() for r in caplog.records)


def test_the_schedulers_per_poll_lines_are_debug_not_info(service_app: Callable[..., ServiceApp],
                                                          caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    app = service_app()
    assert app.poller is not None
    polls: set[float | None] = set()

    wait_for(lambda: polls.add(app.poller.last_poll_unix_s if app.poller else None) or len(polls - {None}) >= 3,
             60, "three polls")
    at_info = [r for r in caplog.records if r.name.startswith("apscheduler.executors")]
    caplog.set_level(logging.DEBUG)
    polls.clear()
    wait_for(lambda: polls.add(app.poller.last_poll_unix_s if app.poller else None) or len(polls - {None}) >= 3,
             60, "three more polls")

    assert at_info == []
    demoted = [r for r in caplog.records if r.name.startswith("apscheduler.executors")]
    assert demoted and {r.levelname for r in demoted} == {"DEBUG"}
    assert any("Running job" in r.getMessage() for r in demoted)


def test_serve_answers_health_and_metrics_on_the_configured_port_and_keeps_info_quiet(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, serve: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource="health-serve",
                          extra='status_bind = "127.0.0.1"\nstatus_port = 0\n')
    served = serve(config, "healthy")
    resource_id, _ = served_resource(operator, callback_bucket, served)
    line = served.wait_line("status endpoint at ")
    base = line.split("status endpoint at ")[1].split("/health")[0]
    seen: set[str] = set()

    def three_polls() -> bool:
        seen.add(requests.get(f"{base}/health", timeout=30).json()["last_poll"] or "")
        return len(seen - {""}) >= 3

    wait_for(three_polls, 60, "three polls seen by /health")
    health = requests.get(f"{base}/health", timeout=30)
    metrics = requests.get(f"{base}/metrics", timeout=30)

    assert base.startswith("http://127.0.0.1:")
    assert health.status_code == 200 and health.json()["resource_id"] == resource_id
    assert metrics.status_code == 200 and "vidiplug_jobs_running" in metrics.text
    assert requests.get(f"{base}/other", timeout=30).status_code == 404
    assert "Running job" not in served.output() and "executed successfully" not in served.output()

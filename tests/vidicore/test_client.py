"""VidiCoreClient against the real mock: registration, configuration, errors, jobs and claims."""

from __future__ import annotations

import base64
import socket
import threading
import uuid
from pathlib import Path

import pytest

from vidicore_mock import MockVidiCore, NewClient, closed_port
from vidiplug.errors import (
    Conflict,
    JobAlreadyClaimed,
    JobParameterError,
    NotFound,
    Unauthorized,
    VidiCoreError,
    VidiCoreUnavailable,
)
from vidiplug.vidicore import Job, JobState, VidiCoreClient


def new_item(client: VidiCoreClient) -> str:
    """An item (this file as its media: enough to start an analyze job on)."""
    return client.import_placeholder_with_file(Path(__file__))


def ready_job(client: VidiCoreClient, resource_id: str, **jobmetadata: str) -> Job:
    """A READY analyze job addressed to ``resource_id``."""
    return client.start_analyze(new_item(client), resource_id, None, jobmetadata)


def test_register_vidinet_twice_returns_the_same_resource(client: VidiCoreClient) -> None:
    url = f"vidinet://{uuid.uuid4()}:ACCESSKEY@svc"

    first = client.register_vidinet("faces", url, "https://svc.example")
    second = client.register_vidinet("faces", url, "https://svc.example")

    assert second.id == first.id
    assert (first.kind, first.url_or_uri, first.name, first.state) == ("vidinet", url, "faces", "ONLINE")
    assert "ACCESSKEY" not in repr(first)


def test_register_vidinet_with_another_url_is_a_new_resource(client: VidiCoreClient) -> None:
    first = client.register_vidinet("faces", f"vidinet://{uuid.uuid4()}@svc", "e")

    second = client.register_vidinet("faces", f"vidinet://{uuid.uuid4()}@svc", "e")

    assert second.id != first.id


def test_register_callback_twice_returns_the_same_resource(client: VidiCoreClient) -> None:
    uri = f"s3://AKIA:se%2Fcret@bucket-{uuid.uuid4().hex[:8]}/prefix/"

    first = client.register_callback(uri)
    second = client.register_callback(uri)

    assert second.id == first.id
    assert client.get_callback_uri(first.id) == uri
    assert "se%2Fcret" not in repr(first)


def test_a_rotated_secret_updates_the_same_resource(client: VidiCoreClient) -> None:
    # VidiCore may mask secrets when reading a resource back: the location, not the secret,
    # finds our resource again, and the new secret is written to it.
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    first = client.register_callback(f"s3://AKIA:old@{bucket}/prefix/")

    second = client.register_callback(f"s3://AKIA:new@{bucket}/prefix/")

    assert second.id == first.id
    assert client.get_callback_uri(first.id) == f"s3://AKIA:new@{bucket}/prefix/"


def test_another_prefix_is_another_callback_resource(client: VidiCoreClient) -> None:
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    first = client.register_callback(f"s3://AKIA:same@{bucket}/one/")

    second = client.register_callback(f"s3://AKIA:same@{bucket}/two/")

    assert second.id != first.id


def test_apply_configuration_creates_the_declared_fields(fresh_mock: MockVidiCore) -> None:
    with VidiCoreClient(fresh_mock.url, fresh_mock.user, fresh_mock.password) as client:
        resource = client.register_vidinet("faces", "vidinet://cfg@svc", "e")
        before = client.precheck_configuration(resource.id)
        assert client.get_field("vcs_face_value") is None

        client.apply_configuration(resource.id)

        after = client.precheck_configuration(resource.id)
        field = client.get_field("vcs_face_value")
        confidence = client.get_field("adu_av_confidence")
        collection = client.find_collection("FaceTrainingDataset")
    assert {f["name"]: f["status"] for f in before["metadataField"]}["vcs_face_value"] == "CREATE"
    assert {f["status"] for f in after["metadataField"]} == {"EXISTS"}
    assert field is not None and field["type"] == "string"
    assert confidence is not None and confidence["type"] == "float"
    assert collection is not None


def test_wrong_password_raises_unauthorized_without_the_password(new_client: NewClient) -> None:
    wrong = "wrong-Pa55word-0x1f"
    client = new_client(password=wrong)

    with pytest.raises(Unauthorized) as caught:
        client.list_resources("vidinet")

    assert caught.value.status == 401
    assert (caught.value.method, caught.value.path) == ("GET", "resource/vidinet")
    for text in (str(caught.value), repr(caught.value), caught.value.body, repr(client)):
        assert wrong not in text
        assert base64.b64encode(f"admin:{wrong}".encode()).decode() not in text


def test_unknown_job_raises_not_found_naming_the_path(client: VidiCoreClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get_job("VX-999999")

    assert (caught.value.status, caught.value.path) == (404, "job/VX-999999")
    assert str(caught.value).startswith("GET job/VX-999999: HTTP 404 notFound")


def test_an_id_with_query_characters_stays_one_path_segment(client: VidiCoreClient) -> None:
    item_id = new_item(client)

    with pytest.raises(NotFound) as caught:
        client.get_item(f"{item_id}?content=metadata#x")

    assert caught.value.path == f"item/{item_id}%3Fcontent%3Dmetadata%23x"


@pytest.mark.parametrize("bad", ["", ".", "..", "VX-1/metadata", "..\\VX-1"])
def test_an_id_that_would_change_the_path_is_refused(client: VidiCoreClient, bad: str) -> None:
    with pytest.raises(VidiCoreError, match="not a usable id"):
        client.get_job(bad)


def test_closed_port_raises_vidicore_unavailable(new_client: NewClient) -> None:
    client = new_client(base_url=f"http://127.0.0.1:{closed_port()}", timeout_s=2.0)

    with pytest.raises(VidiCoreUnavailable, match=r"cannot connect to http://127.0.0.1:") as caught:
        client.get_job("VX-1")

    assert caught.value.status is None
    assert "\n" not in str(caught.value)


def test_silent_server_raises_vidicore_unavailable_after_the_timeout(new_client: NewClient) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection in the kernel, never answers
        client = new_client(base_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)

        with pytest.raises(VidiCoreUnavailable, match=r"no answer from .* in 0\.3 s"):
            client.get_job("VX-1")


def test_two_claims_on_one_job_exactly_one_wins(new_client: NewClient, service_id: str) -> None:
    job = ready_job(new_client(), service_id)
    clients = [new_client(), new_client()]
    start = threading.Barrier(2)
    won: list[Job] = []
    lost: list[BaseException] = []

    def claim(client: VidiCoreClient, instance: str) -> None:
        start.wait()
        try:
            won.append(client.claim_job(job.id, service_id, instance))
        except VidiCoreError as exc:
            lost.append(exc)

    threads = [threading.Thread(target=claim, args=(c, f"host-{i}")) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], JobAlreadyClaimed) and lost[0].status == 409
    assert won[0].state is JobState.STARTED
    assert won[0].data["claimedBy"] in ("host-0", "host-1")


def test_claim_of_a_job_for_another_resource_is_refused_but_not_as_claimed(
    client: VidiCoreClient, service_id: str
) -> None:
    other = client.register_vidinet("other", f"vidinet://{uuid.uuid4()}@svc", "e")
    job = ready_job(client, other.id)

    with pytest.raises(VidiCoreError) as caught:
        client.claim_job(job.id, service_id, "host-1")

    assert caught.value.status == 400
    assert not isinstance(caught.value, Conflict)


def test_list_jobs_returns_only_ready_jobs_of_the_resource(client: VidiCoreClient) -> None:
    mine = client.register_vidinet("mine", f"vidinet://{uuid.uuid4()}@svc", "e")
    theirs = client.register_vidinet("theirs", f"vidinet://{uuid.uuid4()}@svc", "e")
    first, second = ready_job(client, mine.id), ready_job(client, mine.id)
    ready_job(client, theirs.id)
    client.claim_job(first.id, mine.id, "host-1")

    ready = client.list_jobs(mine.id)
    started = client.list_jobs(mine.id, states=(JobState.STARTED,), types=("ANALYZE",))

    assert [j.id for j in ready] == [second.id]
    assert [j.id for j in started] == [first.id]
    assert ready[0].data["resourceId"] == mine.id


def test_jobmetadata_reaches_the_job_data_unchanged(
    client: VidiCoreClient, service_id: str, callback_id: str, hostile_name: str
) -> None:
    item_id = new_item(client)

    job = client.start_analyze(item_id, service_id, callback_id, {
        "cognitive_service_UnknownCollectionName": hostile_name, "cognitive_service_Expr": "a=b&c=d"})

    data = client.get_job(job.id).data
    assert (job.type, job.state) == ("ANALYZE", JobState.READY)
    assert data["cognitive_service_UnknownCollectionName"] == hostile_name
    assert data["cognitive_service_Expr"] == "a=b&c=d"
    assert (data["itemId"], data["resourceId"], data["callbackId"]) == (item_id, service_id, callback_id)


def test_a_jobmetadata_key_with_an_equals_sign_is_refused(client: VidiCoreClient, service_id: str) -> None:
    with pytest.raises(JobParameterError, match="a=b"):
        client.start_analyze(new_item(client), service_id, None, {"a=b": "c"})


def test_start_train_addresses_the_collection(client: VidiCoreClient, service_id: str) -> None:
    collection_id = client.create_collection(f"train-{uuid.uuid4()}")

    job = client.start_train(collection_id, service_id, None, {"cognitive_service_QualitySetting": "Mid"})

    assert job.state is JobState.READY
    assert job.data["collectionId"] == collection_id
    assert job.data["cognitive_service_QualitySetting"] == "Mid"


def test_progress_then_finish_moves_the_job_through_its_states(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "host-1")

    progressed = client.report_progress(job.id, "host-1", 36.64, description="analysing")
    finished = client.set_job_status(job.id, "host-1", JobState.FINISHED)

    assert progressed.state is JobState.STARTED and not progressed.state.is_terminal
    assert progressed.progress_percent == pytest.approx(36.64)
    assert progressed.step_description == "analysing"
    assert finished.state is JobState.FINISHED and finished.state.is_terminal
    assert client.get_job(job.id).state is JobState.FINISHED
    with pytest.raises(Conflict):
        client.report_progress(job.id, "host-1", 50)


def test_failed_status_records_the_reason(client: VidiCoreClient, service_id: str, hostile_name: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "host-1")

    client.set_job_status(job.id, "host-1", "FAILED_TOTAL", reason=hostile_name)

    failed = client.get_job(job.id)
    assert failed.state is JobState.FAILED_TOTAL
    assert failed.failure_reason == hostile_name


def test_progress_from_another_instance_is_a_conflict(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "host-1")

    with pytest.raises(Conflict, match="claimed by host-1"):
        client.report_progress(job.id, "host-2", 10)


def test_abort_ends_a_ready_job(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)

    assert client.abort_job(job.id, reason="operator") is None  # VidiCore's answer is empty

    assert client.get_job(job.id).state is JobState.ABORTED
    assert job.id in [j.id for j in client.list_jobs(service_id, states=(JobState.ABORTED,))]
    assert job.id not in [j.id for j in client.list_jobs(service_id)]


def test_no_error_or_repr_holds_the_password(new_client: NewClient, mock_vidicore: MockVidiCore) -> None:
    client = new_client()
    token = base64.b64encode(f"{mock_vidicore.user}:{mock_vidicore.password}".encode()).decode()
    failures: list[VidiCoreError] = []
    for call in (lambda: client.get_job("VX-0"), lambda: client.get_item("VX-0"),
                 lambda: client.add_to_collection("VX-0", "VX-0"),
                 lambda: client.put_item_metadata("VX-0", {"timespan": "x"}),
                 lambda: new_client(base_url=f"http://127.0.0.1:{closed_port()}").get_job("VX-1")):
        with pytest.raises(VidiCoreError) as caught:
            call()
        failures.append(caught.value)

    texts = [repr(client)] + [t for exc in failures for t in (str(exc), repr(exc), exc.body)]
    assert len(failures) == 5
    for text in texts:
        assert mock_vidicore.password not in text and token not in text

"""The document parsers on hand-made JSON: VidiCore's list quirks, missing keys, secret-free reprs."""

from __future__ import annotations

from typing import Any

import pytest

from vidiplug.errors import DocumentError, VidiCoreError
from vidiplug.vidicore import JobState, parse_item, parse_job, parse_resource, parse_shape


def job(**overrides: Any) -> dict[str, Any]:
    """A JobDocument as mock_vidicore writes it, with ``overrides`` applied (None removes a key)."""
    doc: dict[str, Any] = {"jobId": "VX-7", "user": "admin", "status": "FAILED_TOTAL", "type": "ANALYZE",
                           "data": [{"key": "itemId", "value": "VX-1"}, {"key": "failureReason", "value": "boom"}],
                           "currentStep": {"step": "1", "progress": {"value": "3", "total": "4", "unit": "percent"}}}
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def test_job_reads_state_data_failure_and_progress() -> None:
    parsed = parse_job(job())

    assert (parsed.id, parsed.type, parsed.state, parsed.user) == ("VX-7", "ANALYZE", JobState.FAILED_TOTAL, "admin")
    assert dict(parsed.data) == {"itemId": "VX-1", "failureReason": "boom"}
    assert parsed.failure_reason == "boom"
    assert parsed.progress_percent == pytest.approx(75.0)


def test_job_data_may_be_one_object_instead_of_a_list() -> None:
    parsed = parse_job(job(data={"key": "itemId", "value": "VX-1"}, currentStep=None))

    assert dict(parsed.data) == {"itemId": "VX-1"}
    assert (parsed.failure_reason, parsed.progress_percent) == (None, None)


def test_job_data_cannot_be_changed() -> None:
    parsed = parse_job(job())

    with pytest.raises(TypeError):
        parsed.data["itemId"] = "VX-2"  # type: ignore[index]


@pytest.mark.parametrize("key", ["jobId", "status", "type"])
def test_job_without_a_required_key_names_it(key: str) -> None:
    with pytest.raises(DocumentError, match=f"'{key}' is missing") as caught:
        parse_job(job(**{key: None}))

    assert isinstance(caught.value, VidiCoreError)


def test_job_with_an_unknown_state_names_it() -> None:
    with pytest.raises(DocumentError, match="unknown status 'DISAPPEARED'"):
        parse_job(job(status="DISAPPEARED"))


@pytest.mark.parametrize("spelling", ["ABORT_PENDING", "ABORTED_PENDING"])
def test_both_spellings_of_a_pending_abort_are_read(spelling: str) -> None:
    """Real VidiCore sends ABORT_PENDING (SDK, face theme); some documentation says ABORTED_PENDING."""
    parsed = parse_job(job(status=spelling))

    assert parsed.state is JobState.ABORT_PENDING and not parsed.state.is_terminal


def test_terminal_states_are_the_four_that_end_a_job() -> None:
    assert {s for s in JobState if s.is_terminal} == {
        JobState.FINISHED, JobState.FINISHED_WARNING, JobState.FAILED_TOTAL, JobState.ABORTED}


def test_resource_repr_hides_credentials() -> None:
    resource = parse_resource({"id": "VX-2", "callback": {"uri": "s3://AKIA:s3cr3t-key@bucket/prefix/"}})

    assert (resource.kind, resource.url_or_uri) == ("callback", "s3://AKIA:s3cr3t-key@bucket/prefix/")
    assert "s3cr3t-key" not in repr(resource)
    assert "AKIA" not in repr(resource)


def test_resource_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(DocumentError, match="neither 'vidinet' nor 'callback'"):
        parse_resource({"id": "VX-2", "transcoder": {"url": "x"}})


def test_shape_tolerates_single_tags_files_and_uris() -> None:
    shape = parse_shape({"id": "VX-5", "tag": "original", "mimeType": "image/png",
                         "containerComponent": {"file": {"uri": "s3://b/k.png"}},
                         "metadata": {"field": {"key": "vcs_face_status", "value": "ACTIVE"}}})

    assert (shape.tags, shape.uris, dict(shape.metadata)) == (
        ("original",), ("s3://b/k.png",), {"vcs_face_status": "ACTIVE"})


def test_item_reads_generic_fields_only_from_the_generic_timespan() -> None:
    item = parse_item({"id": "VX-1", "metadata": {"timespan": [
        {"start": "-INF", "end": "+INF", "field": [{"name": "title", "value": [{"value": "a"}, {"value": "b"}]}]},
        {"start": "1@PAL", "end": "2@PAL", "field": [{"name": "title", "value": [{"value": "timed"}]}]}]},
        "files": {"uri": "file:///x.png"}})

    assert item.fields == {"title": ("a", "b")}
    assert item.field("title") == "a" and item.field("missing") is None
    assert len(item.timespans) == 2 and item.uris == ("file:///x.png",)


def test_item_accepts_timespans_directly_under_the_document() -> None:
    item = parse_item({"id": "VX-1", "timespan": {"field": {"name": "title", "value": {"value": "x"}}}})

    assert item.field("title") == "x"


def test_item_without_an_id_is_refused() -> None:
    with pytest.raises(DocumentError, match="ItemDocument: required 'id' is missing"):
        parse_item({"item": [{"id": "VX-1"}]})

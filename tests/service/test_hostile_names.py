"""Names that try to break out of JavaScript, XML or the script tag round-trip unchanged through the service."""

from __future__ import annotations

from pathlib import Path

from operator_api import Operator, field_values

HOSTILE = '"); api.path("item").delete(); // ]]> </script><script>x</script> &amp; line\u2028sep para\u2029sep Zoë 😀'


def test_a_hostile_person_name_is_trained_and_written_back_verbatim(start_service, operator: Operator,
                                                                    data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    photo = operator.import_file(data_dir / "face_recognition/examples/obama.jpg",
                                 ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", HOSTILE))
    operator.add_to_collection(reg.training_collection_id, photo)
    trained = operator.wait_job(operator.train(reg.training_collection_id, reg.resource_id, reg.callback_id))
    assert trained["status"] == "FINISHED", trained
    item = operator.import_file(data_dir / "face_recognition/examples/obama2.jpg")
    items_before = operator.call("PUT", "item", json={})["hits"]

    job = operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id))

    assert job["status"] == "FINISHED", job
    assert field_values(operator.metadata(item), "adu_av_value") == [HOSTILE]
    assert operator.call("PUT", "item", json={})["hits"] == items_before  # nothing deleted, nothing added
    assert field_values(operator.metadata(photo), "vcs_face_value") == [HOSTILE]

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from postgres_server import PostgresServer

NS = "http://xml.vidispine.com/schema/vidispine"


def vidiplug(*args: str, timeout_s: float = 240, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidiplug", *args], capture_output=True, text=True, timeout=timeout_s, check=False,
        env=None if env is None else {**os.environ, **env},
    )


@pytest.mark.parametrize("command", [[], ["analyze"], ["enroll"], ["people"], ["models"], ["store", "migrate"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = vidiplug(*command, "--help")

    assert result.returncode == 0
    assert "usage: vidiplug" in result.stdout


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 500])
def test_corrupt_file_gives_one_clear_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad video.mp4"
    bad.write_bytes(content)

    result = vidiplug("analyze", str(bad))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_file_is_named(tmp_path: Path) -> None:
    result = vidiplug("analyze", str(tmp_path / "absent.mov"))

    assert result.returncode == 2 and "absent.mov: no such file" in result.stderr


def test_bad_parameter_is_refused_with_its_name(hamilton_clip: Path) -> None:
    result = vidiplug("analyze", str(hamilton_clip), "--threshold", "1.5")

    assert result.returncode == 2 and "--threshold" in result.stderr


def test_json_report_names_the_known_person(hamilton_clip: Path, hamilton_gallery: Path, tmp_path: Path) -> None:
    result = vidiplug("analyze", str(hamilton_clip), "--gallery", str(hamilton_gallery), "--thumbnails", str(tmp_path))

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["media"]["width"] == 640 and report["engine"]["name"] == "dlib"
    assert report["frames_analyzed"] == 10
    lin = next(p for p in report["people"] if p["name"] == "Lin-Manuel Miranda")
    assert lin["known"] is True and lin["fingerprint"] and lin["seen_duration"] > 4
    assert any(abs(a["start"] - 3.5) <= 1.0 for a in lin["appearances"])
    assert Path(lin["thumbnail"]).read_bytes()[:2] == b"\xff\xd8"
    summary = result.stderr.strip().splitlines()[-1]
    assert "people" in summary and "appearances" in summary and "frames/s" in summary
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal


def test_xml_output_is_a_metadata_document(hamilton_clip: Path, hamilton_gallery: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.xml"

    result = vidiplug("analyze", str(hamilton_clip), "--gallery", str(hamilton_gallery), "--format", "xml",
                      "--out", str(out))

    assert result.returncode == 0, result.stderr
    root = etree.fromstring(out.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{NS}}}MetadataDocument"
    spans = root.findall(f"{{{NS}}}timespan")
    assert spans and all("@" in span.get("start", "") for span in spans)
    values = [v.text for v in root.iter(f"{{{NS}}}value")]
    assert "Lin-Manuel Miranda" in values and "face" in values


def test_enroll_people_and_suppress_through_the_store(data_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "ids.sqlite"
    photos = [data_dir / "face_recognition/examples/obama.jpg", data_dir / "face_recognition/examples/two_people.jpg"]

    enrolled = vidiplug("enroll", "Barack Obama", *map(str, photos), "--store", str(store))
    listed = json.loads(vidiplug("people", "--store", str(store), "--format", "json").stdout)
    suppressed = vidiplug("people", "--store", str(store), "--suppress", listed[0]["id"])
    again = json.loads(vidiplug("people", "--store", str(store), "--format", "json").stdout)

    assert enrolled.returncode == 0
    assert "rejected" in enrolled.stderr and "2 faces" in enrolled.stderr  # the group photo is refused
    assert [p["name"] for p in listed] == ["Barack Obama"]
    assert sum(listed[0]["vectors"].values()) == 1
    assert suppressed.returncode == 0 and again[0]["suppressed"] is True


def test_store_migrate_copies_a_sqlite_store_into_postgresql_and_says_what(
        data_dir: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    store = tmp_path / "ids.sqlite"
    vidiplug("enroll", "Barack Obama", str(data_dir / "face_recognition/examples/obama.jpg"), "--store", str(store))
    with postgres_server.database() as url:
        with_password = url.replace("vidiplug@", "vidiplug:Sekr3t-pw@")  # trust auth: accepted, never needed

        migrated = vidiplug("store", "migrate", str(store), with_password)
        listed = json.loads(vidiplug("people", "--store", with_password, "--format", "json").stdout)
        again = vidiplug("store", "migrate", str(store), with_password)

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines() == ["identities: 1", "vectors: 1", "vidiplug_item_sightings: 0",
                                            "vidiplug_relabel_requests: 0", "vidiplug_state: 0",
                                            "vidiplug_work_claims: 0"]
    assert [p["name"] for p in listed] == ["Barack Obama"]
    assert [space.split("/")[0] for space in listed[0]["vectors"]] == ["dlib"]  # engine/model@version kept
    assert again.returncode == 2 and "already holds 1 identities" in again.stderr
    assert all("Sekr3t-pw" not in text for text in (migrated.stdout, migrated.stderr, again.stderr))
    assert ":***@127.0.0.1" in again.stderr


def test_unknown_id_in_people_is_a_clear_error(tmp_path: Path) -> None:
    result = vidiplug("people", "--store", str(tmp_path / "s.sqlite"), "--suppress", "no-such-id")

    assert result.returncode == 2 and "no identity 'no-such-id'" in result.stderr


def test_models_lists_dlib_and_explains_packs(tmp_path: Path) -> None:
    result = vidiplug("models", "--models-root", str(tmp_path))

    assert result.returncode == 0
    assert "dlib engine: installed" in result.stdout and "non-commercial" in result.stdout


def test_bundled_sample_clip_shows_one_unknown_face_from_2_to_6_seconds() -> None:
    # The README's first command: no network, media built from scikit-image's NASA portrait.
    result = vidiplug("analyze", "sample:astronaut.mp4")

    assert result.returncode == 0, result.stderr
    people = json.loads(result.stdout)["people"]
    assert len(people) == 1 and people[0]["known"] is False and people[0]["new"] is True
    appearance = people[0]["appearances"][0]
    assert abs(appearance["start"] - 2.0) <= 1.0 and abs(appearance["end"] - 6.0) <= 1.0


def test_faces_flag_adds_the_analysis_record_consistent_with_the_people(
    hamilton_clip: Path, hamilton_gallery: Path
) -> None:
    result = vidiplug("analyze", str(hamilton_clip), "--gallery", str(hamilton_gallery), "--faces")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    faces = [face for track in report["tracks"] for face in track["faces"]]
    assert len(faces) == report["faces_embedded"] > 0
    people = {p["fingerprint"]: p for p in report["people"]}
    for track in report["tracks"]:
        assert all(face["fingerprint"] == track["fingerprint"] for face in track["faces"])
        if track["fingerprint"] is None:
            continue
        person = people[track["fingerprint"]]
        for face in track["faces"]:
            # Every reported face lies inside one of its person's appearances, scored no higher than the person.
            assert any(a["start"] <= face["time"] < a["end"] for a in person["appearances"]), (face, person)
            assert 0 < face["score"] <= person["confidence"] and face["attributes"] == {}
    lin = next(p for p in report["people"] if p["name"] == "Lin-Manuel Miranda")
    assert sum(f["fingerprint"] == lin["fingerprint"] for f in faces) >= 4
    plain = vidiplug("analyze", str(hamilton_clip), "--gallery", str(hamilton_gallery))
    assert "tracks" not in json.loads(plain.stdout)


def test_the_cli_reads_the_services_settings_file_then_environment_then_flags(
    hamilton_clip: Path, tmp_path: Path
) -> None:
    config = tmp_path / "vidiplug.toml"
    config.write_text("[analysis]\nkeyframe_interval_s = 2.5\n[engine]\nname = \"dlib\"\n", encoding="utf-8")

    def frames(*extra: str, env: dict[str, str] | None = None) -> int:
        done = vidiplug("analyze", str(hamilton_clip), "--config", str(config), "--no-unknowns", *extra, env=env)
        assert done.returncode == 0, done.stderr
        return int(json.loads(done.stdout)["frames_analyzed"])

    assert frames() == 4  # the file: every 2.5 s of a 10 s clip
    assert frames(env={"VIDIPLUG_ANALYSIS__KEYFRAME_INTERVAL_S": "5"}) == 2  # the environment over the file
    assert frames("--interval", "2", env={"VIDIPLUG_ANALYSIS__KEYFRAME_INTERVAL_S": "5"}) == 5  # the flag over both
    bad = vidiplug("analyze", str(hamilton_clip), "--config", str(config),
                   env={"VIDIPLUG_ANALYSIS__DETECTION_THRESHOLD": "2"})
    assert bad.returncode == 2 and "analysis.detection_threshold" in bad.stderr
    assert "VIDIPLUG_ANALYSIS__DETECTION_THRESHOLD" in bad.stderr and bad.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(("mode", "needs"), [
    ("direct", ["polled every 0.5 s (service.poll_interval_s; no notifications used)",
                "needs read access to the callback bucket s3://check-bucket/callbacks/",
                "face crops are imported from s3:// URIs there"]),
    ("bridge", ["needs a VidiCore-side counterpart for the job hand-off (mock_vidicore --bridge is one",
                "callback executor needs S3 access to the callback bucket s3://check-bucket/callbacks/"]),
])
def test_check_says_its_mode_and_what_vidicore_still_needs_even_when_nothing_answers(
        tmp_path: Path, mode: str, needs: list[str]) -> None:
    secret = "s3cr3t-Pa55word"
    config = tmp_path / "vidiplug.toml"
    config.write_text(
        f'[vidicore]\nurl = "http://127.0.0.1:9"\nmode = "{mode}"\ntimeout_s = 2\n'
        f'[callback]\nuri = "s3://key:{secret}@check-bucket/callbacks/"\nendpoint_url = "http://127.0.0.1:9"\n'
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n[service]\npoll_interval_s = 0.5\n[engine]\nname = "dlib"\n',
        encoding="utf-8")

    done = vidiplug("check", "--config", str(config), timeout_s=120)

    lines = done.stdout.splitlines()
    assert done.returncode == 2 and lines[0].startswith("ok    configuration"), done.stdout + done.stderr
    assert lines[1].startswith(f"mode  {mode} (vidicore.mode): ")
    assert all(need in lines[1] for need in needs), lines[1]
    assert secret not in done.stdout + done.stderr

"""load_settings: file < environment < overrides, errors that name the key and its source, no secrets shown."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from vidiplug.errors import ConfigError
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.settings import (
    SECTIONS,
    AnalysisDefaults,
    CallbackSettings,
    Secret,
    Settings,
    VidiCoreSettings,
    load_settings,
)

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config" / "vidiplug.toml"
# Placeholders in config/vidiplug.toml that deliberately differ from the defaults.
EXAMPLE_VALUES = {"vidicore.url", "vidicore.user", "vidicore.password", "callback.uri"}


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vidiplug.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nothing_given_means_the_dataclass_defaults() -> None:
    assert load_settings(None, {}) == Settings()


def test_environment_beats_the_file_and_overrides_beat_both(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[service]\nworkers = 3\npoll_interval_s = 1.5\n")
    environ = {"VIDIPLUG_SERVICE__WORKERS": "5"}

    from_file = load_settings(path, {})
    from_env = load_settings(path, environ)
    overridden = load_settings(path, environ, {"service.workers": 7})

    assert (from_file.service.workers, from_env.service.workers, overridden.service.workers) == (3, 5, 7)
    assert overridden.service.poll_interval_s == 1.5


def test_environment_values_are_parsed_by_the_settings_type() -> None:
    environ = {
        "VIDIPLUG_ANALYSIS__IMPORT_UNKNOWNS": "no",
        "VIDIPLUG_ANALYSIS__KEYFRAME_INTERVAL_S": "2",
        "VIDIPLUG_ENGINE__PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider",
        "VIDIPLUG_STORE__PATH": "/var/lib/vidiplug/ids.sqlite",
        "VIDIPLUG_CALLBACK__ENDPOINT_URL": "",
    }

    settings = load_settings(None, environ)

    assert settings.analysis.import_unknowns is False
    assert settings.analysis.keyframe_interval_s == 2.0
    assert settings.engine.providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert settings.store.path == Path("/var/lib/vidiplug/ids.sqlite")
    assert settings.callback.endpoint_url is None


def test_an_empty_variable_resets_an_optional_setting(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[analysis]\nstorage_id = "VX-3"\n')

    assert load_settings(path, {"VIDIPLUG_ANALYSIS__STORAGE_ID": ""}).analysis.storage_id is None


def test_variables_that_are_not_settings_are_ignored() -> None:
    environ = {"VIDIPLUG_STORE": "/x.sqlite", "HOME": "/root", "VIDIPLUGX__Y": "1"}

    assert load_settings(None, environ) == Settings()


def test_unknown_key_in_the_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[vidicore]\npasword = "x"\n')

    with pytest.raises(ConfigError, match=re.escape(f"vidicore.pasword in {path}")):
        load_settings(path, {})


def test_unknown_section_in_the_file_names_the_section_and_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[vidcore]\nurl = 'http://x'\n")

    with pytest.raises(ConfigError, match=re.escape(f"[vidcore] in {path}")):
        load_settings(path, {})


def test_wrong_type_in_the_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[service]\nworkers = "four"\n')

    with pytest.raises(ConfigError, match=re.escape(f"service.workers in {path}: expected an integer")):
        load_settings(path, {})


def test_value_out_of_range_names_the_key_and_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"analysis.confidence_threshold in environment variable "
                                          "VIDIPLUG_ANALYSIS__CONFIDENCE_THRESHOLD: must be between 0 and 1"):
        load_settings(None, {"VIDIPLUG_ANALYSIS__CONFIDENCE_THRESHOLD": "1.5"})


@pytest.mark.parametrize("name, value, expected", [
    ("VIDIPLUG_SERVICE__WORKERS", "many", "service.workers in environment variable VIDIPLUG_SERVICE__WORKERS"),
    ("VIDIPLUG_SERVICE__AUTOTRAIN", "maybe", "service.autotrain in environment variable VIDIPLUG_SERVICE__AUTOTRAIN"),
    ("VIDIPLUG_VIDICORE__PASWORD", "x", "vidicore.pasword in environment variable VIDIPLUG_VIDICORE__PASWORD"),
    ("VIDIPLUG_VIDCORE__URL", "x", "[vidcore] in environment variable VIDIPLUG_VIDCORE__URL"),
])
def test_bad_environment_variable_is_named(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_settings(None, {name: value})


def test_bad_override_is_named() -> None:
    with pytest.raises(ConfigError, match=re.escape("service.wokers in override 'service.wokers'")):
        load_settings(None, {}, {"service.wokers": 2})


def test_quality_setting_must_be_low_mid_or_high(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[analysis]\nquality_setting = "Best"\n')

    with pytest.raises(ConfigError, match=r"analysis.quality_setting .* must be Low, Mid or High"):
        load_settings(path, {})


def test_unreadable_or_invalid_file_is_named(tmp_path: Path) -> None:
    broken = _toml(tmp_path, "[service\nworkers = 2\n")

    with pytest.raises(ConfigError, match=re.escape(str(broken))):
        load_settings(broken, {})
    with pytest.raises(ConfigError, match=r"missing.toml"):
        load_settings(tmp_path / "missing.toml", {})


def test_secrets_appear_in_no_repr_or_error(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[callback]\nuri = "s3://AKIAKEY:uri-s3cr3t%2Fx@example-bucket/cb/"\n')
    environ = {"VIDIPLUG_VIDICORE__PASSWORD": "vc-s3cr3t", "VIDIPLUG_CALLBACK__REGION": "eu-north-1"}

    settings = load_settings(path, environ)
    shown = [repr(settings), str(settings), repr(settings.vidicore), f"{settings.callback}"]
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {}, {"vidicore.password": 12345678})

    assert all("s3cr3t" not in text for text in shown)
    assert "12345678" not in str(caught.value)
    assert settings.vidicore.password.reveal() == "vc-s3cr3t"
    assert settings.secrets() == ("vc-s3cr3t", "uri-s3cr3t/x")


def test_store_url_names_postgresql_and_its_password_is_a_secret() -> None:
    environ = {"VIDIPLUG_STORE__URL": "postgresql://vidiplug:db-s3cr3t%21@db.example.com:5432/ids"}

    settings = load_settings(None, environ)

    assert settings.store.is_postgres()
    assert settings.store.resolved_url() == "postgresql://vidiplug:db-s3cr3t%21@db.example.com:5432/ids"
    assert "s3cr3t" not in repr(settings)
    assert settings.secrets() == ("db-s3cr3t!",)


def test_store_path_is_still_read_and_excludes_url() -> None:
    old = load_settings(None, {"VIDIPLUG_STORE__PATH": "/var/lib/vidiplug/ids.sqlite"})
    with pytest.raises(ConfigError, match=r"store.url .*either url or path"):
        load_settings(None, {"VIDIPLUG_STORE__PATH": "/a.sqlite", "VIDIPLUG_STORE__URL": "/b.sqlite"})

    assert old.store.resolved_url() == "/var/lib/vidiplug/ids.sqlite"
    assert not old.store.is_postgres()


def test_secret_compares_by_value_and_shows_stars() -> None:
    assert Secret("a-b-c") == Secret("a-b-c") != Secret("x-y-z")
    assert (repr(Secret("a-b-c")), str(Secret("a-b-c")), f"{Secret('a-b-c')}") == ("'***'", "'***'", "'***'")


def test_callback_location_is_a_uri_or_parts_not_both() -> None:
    with pytest.raises(ValueError, match="uri"):
        CallbackSettings(uri=Secret("s3://b/p"), bucket="b")
    with pytest.raises(ValueError, match="uri"):
        CallbackSettings(uri=Secret("https://b/p"))
    with pytest.raises(ValueError, match="url"):
        VidiCoreSettings(url="vidicore.example.com")


def test_analysis_defaults_are_analyze_params_defaults() -> None:
    defaults, params = AnalysisDefaults(), AnalyzeParams()

    assert defaults.confidence_threshold == params.threshold
    assert defaults.max_timespan_s == params.max_span_s
    assert defaults.import_unknowns == params.import_unknowns
    assert defaults.detection_threshold == params.detection_threshold
    assert defaults.keyframe_interval_s == params.interval_s
    assert (defaults.unknown_collection_name, defaults.storage_id, defaults.quality_setting) == (
        "FoundByFaceAnalysis", None, "Mid")


def test_example_config_holds_the_defaults_apart_from_its_placeholders() -> None:
    loaded = load_settings(EXAMPLE_CONFIG, {})

    differing = {f"{section}.{field.name}"
                 for section in SECTIONS
                 for field in dataclasses.fields(SECTIONS[section])
                 if getattr(getattr(loaded, section), field.name) != getattr(getattr(Settings(), section), field.name)}

    assert differing == EXAMPLE_VALUES


def test_example_config_mentions_every_setting() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")

    missing = [f"{section}.{field.name}" for section in SECTIONS for field in dataclasses.fields(SECTIONS[section])
               if not re.search(rf"^#? ?{field.name} = ", text.split(f"[{section}]")[1].split("\n[")[0], re.M)]

    assert missing == []

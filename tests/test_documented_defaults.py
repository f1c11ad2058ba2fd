"""Every default the documentation states equals the code's: config/vidiplug.toml and the README's tables.

Each setting's default is written once, in vidiplug/settings.py (and the dataclasses it
gathers); the config file and the README only repeat it, so these tests hold them to it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.settings import SECTIONS, AnalysisDefaults, Secret, Settings
from vidiplug.vidicore.bridge import BRIDGE_CALLS

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "vidiplug.toml"
README = ROOT / "README.md"


def _plain(value: object) -> object:
    """A setting's value as TOML writes it."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return value


def example_keys(text: str) -> set[str]:
    """``section.key`` of the settings the config file marks as EXAMPLE placeholders.

    The marker ends a comment line and covers the keys right below it, up to the next
    comment, blank line or section.
    """
    examples, section, marked = set(), "", False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section, marked = stripped.strip("[]"), False
        elif stripped.startswith("#"):
            marked = stripped.endswith("EXAMPLE")
        elif not stripped:
            marked = False
        elif marked and "=" in stripped:
            examples.add(f"{section}.{stripped.split('=')[0].strip()}")
    return examples


def test_every_value_the_config_file_sets_is_the_codes_default() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    written = tomllib.loads(text)
    examples = example_keys(text)
    assert {"vidicore.url", "vidicore.user", "vidicore.password", "callback.uri"} <= examples
    defaults = Settings()
    checked = 0
    for section, table in written.items():
        assert section in SECTIONS, f"config/vidiplug.toml has a section [{section}] the settings lack"
        code = getattr(defaults, section)
        known = {f.name for f in fields(SECTIONS[section])}
        for key, value in table.items():
            assert key in known, f"[{section}] {key} is not a setting"
            if f"{section}.{key}" in examples:
                continue
            default = getattr(code, key)
            assert value == _plain(default), f"[{section}] {key} = {value!r}, code default {default!r}"
            checked += 1
    assert checked >= 30  # the file documents (nearly) every setting, not a handful


def test_every_setting_is_documented_in_the_config_file() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    missing = [f"{section}.{f.name}" for section, kind in SECTIONS.items() for f in fields(kind)
               if not re.search(rf"^#? ?{re.escape(f.name)} = ", text, re.MULTILINE)]
    assert missing == []


JOB_PARAMETERS = {
    "ConfidenceThreshold": "confidence_threshold",
    "MaxTimespanLength": "max_timespan_s",
    "ImportUnknown": "import_unknowns",
    "UnknownCollectionName": "unknown_collection_name",
    "DetectionThreshold": "detection_threshold",
    "KeyframeInterval": "keyframe_interval_s",
    "QualitySetting": "quality_setting",
}


@pytest.mark.parametrize("parameter", sorted(JOB_PARAMETERS))
def test_the_readmes_job_parameter_defaults_are_the_codes(parameter: str) -> None:
    row = re.search(rf"^\| `cognitive_service_{parameter}`[^|]*\| ([^|]+) \|", README.read_text(encoding="utf-8"),
                    re.MULTILINE)
    assert row is not None, f"README has no row for {parameter}"
    shown = row.group(1).split(" (")[0].strip()
    code = getattr(AnalysisDefaults(), JOB_PARAMETERS[parameter])
    if isinstance(code, bool):
        assert shown == str(code).lower()
    elif isinstance(code, float):
        assert float(shown) == code
    else:
        assert shown == code


def test_the_readmes_analyze_option_defaults_are_the_codes() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    stated = {
        "--interval S": AnalysisDefaults().keyframe_interval_s,
        "--threshold X": AnalysisDefaults().confidence_threshold,
        "--detection-threshold X": AnalysisDefaults().detection_threshold,
        "--min-face PX": AnalyzeParams().min_face_px,
        "--detect-size PX": Settings().engine.detect_size_px,
    }
    for option, code in stated.items():
        found = re.search(rf"`{re.escape(option)}`[^`]*?default (\d+(?:\.\d+)?)", text)
        assert found is not None, f"README states no default for {option}"
        assert float(found.group(1)) == float(code), option


def test_the_readme_lists_every_undocumented_call_of_bridge_mode() -> None:
    text = README.read_text(encoding="utf-8")
    for method, path, _ in BRIDGE_CALLS:
        assert f"`{method} {path}`" in text, f"README's bridge table lacks {method} {path}"

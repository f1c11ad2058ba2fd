"""Custom insights as VidiCore metadata: one field group per model, one group per instance, time-coded.

Pure functions, no I/O. A model's insights live in the group ``vidiplug_insight_{model}``
(hyphens as underscores), declared by the service configuration (service/declaration.py),
so re-running a model replaces exactly its own groups. Each instance is one group in the
timespan of its ``start``/``end`` (``-INF``/``+INF`` where the model gave none), holding the
fields below; absent optional values are left out.
"""

from __future__ import annotations

from typing import Any

from vidiplug.pipeline.insights import CustomInsights, InsightInstance, InsightResult, format_time
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.render.metadata_xml import to_xml_text
from vidiplug.render.timecode import TimeBase, timebase_for_rate, to_timecode

INSIGHT_GROUP_PREFIX = "vidiplug_insight_"
INSIGHT_STRING_FIELDS = (
    "vidiplug_insightModel", "vidiplug_insightDisplayName", "vidiplug_insightDisplayType", "vidiplug_insightId",
    "vidiplug_insightType", "vidiplug_insightSubType", "vidiplug_insightMetaData",
    "vidiplug_insightAdjustedStart", "vidiplug_insightAdjustedEnd",
)
INSIGHT_FLOAT_FIELDS = ("vidiplug_insightConfidence",)
INSIGHT_FIELDS = INSIGHT_STRING_FIELDS + INSIGHT_FLOAT_FIELDS


def insight_group_name(model: str) -> str:
    """The field group of ``model``'s insights: ``shot-type`` -> ``vidiplug_insight_shot_type``."""
    return INSIGHT_GROUP_PREFIX + model.replace("-", "_")


def insight_groups(result: AnalysisResult, timebase: TimeBase | None = None) -> list[dict[str, Any]]:
    """One entry per model of ``result.custom_insights``: ``{"name", "groupName", "spans": [{"start", "end",
    "groups": [group]}]}``, groups in MetadataDocument JSON form, time codes in ``timebase`` (default: the
    media's frame base, as the face groups)."""
    base = timebase if timebase is not None else timebase_for_rate(result.media.frame_rate)
    return [_model_groups(insights, base) for insights in result.custom_insights]


def _model_groups(insights: CustomInsights, base: TimeBase) -> dict[str, Any]:
    group_name = insight_group_name(insights.name)
    spans: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in insights.results:
        for instance in result.instances:
            start = to_timecode(instance.start_s, base) if instance.start_s is not None else "-INF"
            end = to_timecode(instance.end_s, base) if instance.end_s is not None else "+INF"
            spans.setdefault((start, end), []).append(_group(group_name, insights, result, instance))
    return {"name": insights.name, "groupName": group_name,
            "spans": [{"start": start, "end": end, "groups": groups} for (start, end), groups in spans.items()]}


def _group(name: str, insights: CustomInsights, result: InsightResult, instance: InsightInstance) -> dict[str, Any]:
    pairs: list[tuple[str, str]] = [
        ("vidiplug_insightModel", insights.name),
        ("vidiplug_insightDisplayName", insights.display_name),
        ("vidiplug_insightDisplayType", insights.display_type),
        ("vidiplug_insightId", result.id),
        ("vidiplug_insightType", result.type),
    ]
    if result.sub_type is not None:
        pairs.append(("vidiplug_insightSubType", result.sub_type))
    if result.meta_data:
        pairs.append(("vidiplug_insightMetaData", result.meta_data))
    if instance.confidence is not None:
        pairs.append(("vidiplug_insightConfidence", f"{instance.confidence:.4f}"))
    if instance.adjusted_start_s is not None:
        pairs.append(("vidiplug_insightAdjustedStart", format_time(instance.adjusted_start_s)))
    if instance.adjusted_end_s is not None:
        pairs.append(("vidiplug_insightAdjustedEnd", format_time(instance.adjusted_end_s)))
    fields = [{"name": field, "value": [{"value": to_xml_text(value)}]} for field, value in pairs]
    return {"name": name, "field": fields}

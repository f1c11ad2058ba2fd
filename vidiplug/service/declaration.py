"""The service configuration vidiplug declares: fields, groups, shape tags, job steps, collections.

Seed 002 / reference §3.4 and §11.2: applying a face service's configuration creates the
``vcs_face_*`` fields, the ADU groups its results are written in, the shape tags of face
crops and of the face-tracking JSON (``vcs_face_tracks``, issue 15), the merge and relabel
job types and the training collection. Real VidiCore takes the declaration from VidiNet;
mock_vidicore takes it in the body of ``PUT resource/vidinet/{id}/configuration``. Pure
data, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vidiplug.render.azure_faces import TRACKS_SHAPE_TAG
from vidiplug.render.insight_groups import (
    INSIGHT_FIELDS,
    INSIGHT_FLOAT_FIELDS,
    INSIGHT_STRING_FIELDS,
    insight_group_name,
)
from vidiplug.render.metadata_xml import (
    BOX_GROUP,
    EMOTION_CONFIDENCE_FIELD,
    EMOTION_FIELD,
    GROUP_PREFIX,
    SERIES_FIELD,
    VALUE_GROUP,
)

ANALYZER_ID = "VidiplugFaceAnalyzer"
ANALYZER_GROUP = GROUP_PREFIX + ANALYZER_ID
# Animated characters (issue 16, cognitive_service_AnimationModel): the same group shape as faces,
# adu_analysisType "character" and the series in adu_av_series, under an analyzer id of their own
# so a character analysis never replaces an item's face timespans (or the reverse).
CHARACTER_ANALYZER_ID = "VidiplugCharacterAnalyzer"
CHARACTER_GROUP = GROUP_PREFIX + CHARACTER_ANALYZER_ID
# The group Vidispine's face UI reads; declared too so results of either analyzer fit.
DEEPVA_GROUP = GROUP_PREFIX + "DeepVAKeyframeAnalyzer"
THUMBNAIL_TAG = "vcs_face_thumbnail"
# The job types the service runs. Analyze jobs are ANALYZE (reference §7.2); a collection
# train job's type is unconfirmed there: TRAINING is what mock_vidicore creates. Merge and
# relabel are the face service's custom job steps (§11.4).
ANALYZE_JOB_TYPE = "ANALYZE"
TRAIN_JOB_TYPE = "TRAINING"
MERGE_JOB_TYPE = "VCS_TRAINING_MERGE_ITEMS"
RELABEL_JOB_TYPE = "VCS_TRAINING_RELABEL_ITEM"

BOOLEAN_FIELDS = ("vcs_face_isTrainingMaterial", "vcs_face_isTrainingCollection", "vcs_face_isSampleCollection")
STRING_FIELDS = (
    "vcs_face_value", "vcs_face_method", "vcs_face_status", "vcs_face_externalId", "adu_analyzerId",
    "adu_analysisType", "adu_creationDate", "adu_av_value", "adu_av_valueId", "adu_av_description",
    "adu_av_thumbnailUrl", "adu_valueId", "adu_value", EMOTION_FIELD, SERIES_FIELD,
)
BOX_FIELDS = ("adu_av_x", "adu_av_y", "adu_av_width", "adu_av_height")
FLOAT_FIELDS = ("adu_av_confidence", EMOTION_CONFIDENCE_FIELD, *BOX_FIELDS)
# Emotion (issue 15): the span's emotion and its score, written when cognitive_service_Emotion asks.
VALUE_FIELDS = ("adu_av_value", "adu_av_valueId", "adu_av_confidence", "adu_av_description", "adu_av_thumbnailUrl",
                EMOTION_FIELD, EMOTION_CONFIDENCE_FIELD, SERIES_FIELD)
TOP_FIELDS = ("adu_analyzerId", "adu_analysisType", "adu_creationDate", "adu_valueId", "adu_value")


def service_declaration(training_collection: str, service_name: str = "vidiplug face analysis",
                        models: Sequence[str] = ()) -> dict[str, Any]:
    """The ServiceConfiguration declaration (JSON form) of the face service.

    ``models``: the custom-insight models that can run (installed and configured); each gets
    its own field group ``vidiplug_insight_{model}`` of the ``vidiplug_insight*`` fields
    (render/insight_groups.py), so its insights are replaced without touching anything else.

    ``training_collection`` is created with ``vcs_face_isTrainingCollection=true`` (seed
    002 calls it FaceTrainingDataset). The unknown-face collection is not declared: the
    analyze callback creates it on first need, under the name each job asks for.
    """
    return {
        "serviceName": service_name,
        "metadataField": [
            *({"name": name, "type": "boolean"} for name in BOOLEAN_FIELDS),
            *({"name": name, "type": "string"} for name in STRING_FIELDS),
            *({"name": name, "type": "float"} for name in FLOAT_FIELDS),
            *({"name": name, "type": "string"} for name in INSIGHT_STRING_FIELDS),
            *({"name": name, "type": "float"} for name in INSIGHT_FLOAT_FIELDS),
        ],
        "fieldGroup": [
            {"name": BOX_GROUP, "field": [{"name": name} for name in BOX_FIELDS]},
            {"name": VALUE_GROUP, "field": [{"name": name} for name in VALUE_FIELDS], "group": [{"name": BOX_GROUP}]},
            *({"name": group, "field": [{"name": name} for name in TOP_FIELDS], "group": [{"name": VALUE_GROUP}]}
              for group in (DEEPVA_GROUP, ANALYZER_GROUP, CHARACTER_GROUP)),
            *({"name": insight_group_name(model), "field": [{"name": name} for name in INSIGHT_FIELDS]}
              for model in models),
        ],
        "shapeTag": [{"name": THUMBNAIL_TAG}, {"name": TRACKS_SHAPE_TAG}],
        "taskDefinition": [{"jobType": MERGE_JOB_TYPE}, {"jobType": RELABEL_JOB_TYPE}],
        "collection": [{"name": training_collection,
                        "field": [{"name": "vcs_face_isTrainingCollection", "value": "true"}]}],
    }


# Direct mode (README "Two integration modes"): requests and their outcome are metadata, on
# the requested item (analysis, relabel, merge) or on the training collection (training).
STATUS_FIELD = "vidiplug_status"
"""RUNNING, FINISHED or FAILED: where a request stands."""
PROGRESS_FIELD = "vidiplug_progress"
"""Percent done (0-100) of the running request."""
MESSAGE_FIELD = "vidiplug_message"
"""What the request is doing, or why it failed."""
RUN_FIELD = "vidiplug_runId"
"""The run's id: the folder of its CallbackDocuments in the callback location."""
PARAMETER_FIELD = "vidiplug_jobParameter"
"""Job parameters the operator sets with a request, one ``cognitive_service_Name=value`` per value."""
TRAIN_REQUEST_FIELD = "vidiplug_trainingRequested"
"""``true`` on the training collection asks for a training run (autotrain sets it too)."""
MERGE_FIELD = "vidiplug_mergeInto"
"""On an unknown-face item: the id of the item whose identity it is to be merged into."""
DIRECT_STRING_FIELDS = (STATUS_FIELD, MESSAGE_FIELD, RUN_FIELD, PARAMETER_FIELD, MERGE_FIELD)


def direct_declaration(training_collection: str, models: Sequence[str] = ()) -> dict[str, Any]:
    """The declaration direct mode creates through VidiCore's documented definition endpoints.

    The face service's (``service_declaration``) without the job types (direct mode runs
    merge and relabel itself), plus the request and status fields.
    """
    declaration = service_declaration(training_collection, models=models)
    del declaration["taskDefinition"]
    declaration["metadataField"] = [
        *declaration["metadataField"],
        *({"name": name, "type": "string"} for name in DIRECT_STRING_FIELDS),
        {"name": PROGRESS_FIELD, "type": "float"},
        {"name": TRAIN_REQUEST_FIELD, "type": "boolean"},
    ]
    return declaration

"""The service configuration vidiplug declares: fields, groups, shape tag, job steps, collections.

Seed 002 / reference §3.4 and §11.2: applying a face service's configuration creates the
``vcs_face_*`` fields, the ADU groups its results are written in, the shape tag of face
crops, the merge and relabel job types and the training collection. Real VidiCore takes
the declaration from VidiNet; mock_vidicore takes it in the body of
``PUT resource/vidinet/{id}/configuration``. Pure data, no I/O.
"""

from __future__ import annotations

from typing import Any

from vidiplug.render.metadata_xml import BOX_GROUP, GROUP_PREFIX, VALUE_GROUP

ANALYZER_ID = "VidiplugFaceAnalyzer"
ANALYZER_GROUP = GROUP_PREFIX + ANALYZER_ID
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
    "adu_av_thumbnailUrl", "adu_valueId", "adu_value",
)
BOX_FIELDS = ("adu_av_x", "adu_av_y", "adu_av_width", "adu_av_height")
FLOAT_FIELDS = ("adu_av_confidence", *BOX_FIELDS)
VALUE_FIELDS = ("adu_av_value", "adu_av_valueId", "adu_av_confidence", "adu_av_description", "adu_av_thumbnailUrl")
TOP_FIELDS = ("adu_analyzerId", "adu_analysisType", "adu_creationDate", "adu_valueId", "adu_value")


def service_declaration(training_collection: str, service_name: str = "vidiplug face analysis") -> dict[str, Any]:
    """The ServiceConfiguration declaration (JSON form) of the face service.

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
        ],
        "fieldGroup": [
            {"name": BOX_GROUP, "field": [{"name": name} for name in BOX_FIELDS]},
            {"name": VALUE_GROUP, "field": [{"name": name} for name in VALUE_FIELDS], "group": [{"name": BOX_GROUP}]},
            *({"name": group, "field": [{"name": name} for name in TOP_FIELDS], "group": [{"name": VALUE_GROUP}]}
              for group in (DEEPVA_GROUP, ANALYZER_GROUP)),
        ],
        "shapeTag": [{"name": THUMBNAIL_TAG}],
        "taskDefinition": [{"jobType": MERGE_JOB_TYPE}, {"jobType": RELABEL_JOB_TYPE}],
        "collection": [{"name": training_collection,
                        "field": [{"name": "vcs_face_isTrainingCollection", "value": "true"}]}],
    }

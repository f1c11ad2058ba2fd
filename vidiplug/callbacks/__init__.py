"""Results -> what VidiCore's callback executor runs: data files and CallbackDocuments with static JavaScript.

Pure: builds bytes, uploads nothing (the storage room does, data files first). Never imports
requests, boto3, botocore or apscheduler.
"""

from __future__ import annotations

from vidiplug.callbacks.bundle import (
    ANALYZE_METADATA_FILE,
    ANALYZE_TRACKS_FILE,
    ANALYZE_UNKNOWNS_FILE,
    DEFAULT_REASON_FIELD,
    DELETED_FINGERPRINTS_KEY,
    MISSING_ITEMS_KEY,
    RELABEL_FILE,
    RELABELLED_ITEMS_KEY,
    TRAIN_FILE,
    CallbackFile,
    build_analyze_bundle,
    build_relabel_bundle,
    build_train_bundle,
    callback_document,
    json_literal,
)
from vidiplug.callbacks.scripts import CallbackScript, ScriptName, load_script
from vidiplug.errors import CallbackError

__all__ = [
    "ANALYZE_METADATA_FILE",
    "ANALYZE_TRACKS_FILE",
    "ANALYZE_UNKNOWNS_FILE",
    "DEFAULT_REASON_FIELD",
    "DELETED_FINGERPRINTS_KEY",
    "MISSING_ITEMS_KEY",
    "RELABELLED_ITEMS_KEY",
    "RELABEL_FILE",
    "TRAIN_FILE",
    "CallbackError",
    "CallbackFile",
    "CallbackScript",
    "ScriptName",
    "build_analyze_bundle",
    "build_relabel_bundle",
    "build_train_bundle",
    "callback_document",
    "json_literal",
    "load_script",
]

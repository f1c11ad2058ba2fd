"""Frozen settings values shared by the rooms, and load_settings: TOML < environment < overrides.

Imports nothing from vidiplug but errors and the AnalyzeParams defaults; never reads os.environ."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir

from vidiplug.engine.config import EngineSettings
from vidiplug.errors import ConfigError, InvalidSetting
from vidiplug.pipeline.byom import FrameSelection
from vidiplug.pipeline.insights import MODEL_NAME_RULE, is_model_name
from vidiplug.pipeline.params import AnalyzeParams

ENV_PREFIX = "VIDIPLUG_"
QUALITY_SETTINGS = ("Low", "Mid", "High")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
INTEGRATION_MODES = ("direct", "bridge")
"""How jobs reach the service: see VidiCoreSettings and the README's "Two integration modes"."""
_Entry = tuple[object, str, bool]  # value, where it came from, whether it is environment text


class Secret:
    """A string that shows itself only through ``reveal()``; ``repr``/``str`` give ``'***'``."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; call it only where the value goes on the wire."""
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _require(ok: bool, key: str, reason: str) -> None:
    if not ok:
        raise InvalidSetting(key, reason)


@dataclass(frozen=True)
class VidiCoreSettings:
    """How to reach VidiCore and what to call ourselves there.

    ``url``: base URL without ``/API`` (http or https). ``user``/``password``: HTTP Basic
    credentials. ``timeout_s``: seconds any one API call may take. ``resource_name``: name
    of the VidiNet resource the service registers in ``bridge`` mode (a restart finds and
    reuses it by name). ``mode``: how jobs reach the service (INTEGRATION_MODES):
    ``direct`` uses only VidiCore's documented API (requests are queue-collection members
    and metadata fields), ``bridge`` the VidiNet-style job hand-off that needs a
    VidiCore-side counterpart (mock_vidicore started with ``--bridge`` is one).
    """

    url: str = "http://localhost:8080"
    user: str = "admin"
    password: Secret = Secret("")
    timeout_s: float = 30.0
    resource_name: str = "vidiplug"
    mode: str = "direct"

    def __post_init__(self) -> None:
        _require(self.url.startswith(("http://", "https://")), "url", "must start with http:// or https://")
        _require(self.timeout_s > 0, "timeout_s", "must be positive")
        _require(self.mode in INTEGRATION_MODES, "mode", f"must be one of {', '.join(INTEGRATION_MODES)}")


@dataclass(frozen=True)
class CallbackSettings:
    """The S3 location callback documents go to (reference §3.3, §9).

    Give either ``uri`` (``s3://KEY:SECRET@bucket/prefix/``, secret URL-encoded) or
    ``bucket`` + ``prefix`` + ``access_key_id`` + ``secret_access_key``; no credentials
    at all means boto3's default chain. ``endpoint_url``: a non-AWS S3 server (MinIO, a
    local moto server); None = AWS. ``region``: the bucket's region.
    """

    uri: Secret = Secret("")
    bucket: str = ""
    prefix: str = ""
    access_key_id: str = ""
    secret_access_key: Secret = Secret("")
    endpoint_url: str | None = None
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        _require(self.uri.reveal()[:5].lower() in ("", "s3://"), "uri", "must be an s3:// URI")
        _require(not (self.uri.reveal() and self.bucket), "uri", "give either uri or bucket, not both")
        _require(bool(self.secret_access_key.reveal() or not self.access_key_id), "secret_access_key",
                 "is required with access_key_id")


@dataclass(frozen=True)
class StoreSettings:
    """Where the identity store lives. ``url``: a SQLite file path, or ``postgresql://user:password@host:port/db``
    for a store shared by several service hosts ("" = service-identities.sqlite in the user data
    dir, apart from the CLI's own store). ``path``: the older name for a SQLite file, still read;
    give one of the two."""

    url: Secret = Secret("")
    path: Path | None = None

    def __post_init__(self) -> None:
        _require(not (self.url.reveal() and self.path is not None), "url", "give either url or path, not both")

    def resolved_url(self) -> str:
        """``url``, else ``path``, else the default file in the user data dir (a path or a postgresql:// URL)."""
        if self.url.reveal():
            return self.url.reveal()
        return str(self.resolved_path())

    def resolved_path(self) -> Path:
        """The SQLite file: ``path``, ``url`` when it is a path, or the default file (meaningless for PostgreSQL)."""
        if self.path is not None:
            return self.path
        if self.url.reveal() and not self.is_postgres():
            return Path(self.url.reveal()).expanduser()
        return Path(user_data_dir("vidiplug")) / "service-identities.sqlite"

    def is_postgres(self) -> bool:
        """True when the store is a PostgreSQL database."""
        return self.url.reveal().strip().lower().startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class ServiceSettings:
    """How the service polls and runs jobs.

    ``poll_interval_s``: seconds between polls. ``workers``: jobs run at once.
    ``unknowns_watch_interval_s``: seconds between looks at the unknown-face items (a name
    set on one relabels its fingerprint, a deleted one suppresses it); each look is one
    paged item search, so raise it for very large archives.
    ``claim_timeout_s``: a claimed job with no progress for this long belongs to a dead
    instance and is picked up again. ``autotrain``: train by itself when
    ``training_collection`` changes, ``autotrain_debounce_s`` after the last change.
    ``analysis_queue`` (direct mode): the collection operators add items to for analysis.
    ``work_dir``: scratch folder for fetched media (None = system temp dir).
    ``media_timeout_s``: seconds without data before a media download is abandoned;
    ``max_media_bytes``: larger media is refused. ``log_level``: one of LOG_LEVELS.
    ``retry_window_s``: how long a job's progress or status call to VidiCore, or its S3
    write, is retried while the failure is transient (no connection, timeout, 502-504, S3
    5xx or throttling); only an outage longer than this abandons (VidiCore) or fails (S3)
    the job. Pauses start at ``retry_backoff_s`` and double up to ``retry_max_backoff_s``.
    ``min_free_bytes``: ``vidiplug check`` fails for a folder the service writes (work_dir,
    the store's folder, the engine cache) with less free space than this.
    ``status_bind`` / ``status_port``: address of the HTTP endpoint serving ``/health`` and
    ``/metrics`` (loopback by default; port 0 = any free port, -1 = no endpoint).
    """

    poll_interval_s: float = 5.0
    workers: int = 2
    unknowns_watch_interval_s: float = 10.0
    claim_timeout_s: float = 600.0
    autotrain: bool = True
    autotrain_debounce_s: float = 30.0
    training_collection: str = "FaceTrainingDataset"
    analysis_queue: str = "FaceAnalysisQueue"
    work_dir: Path | None = None
    media_timeout_s: float = 60.0
    max_media_bytes: int = 50 * 1024**3
    log_level: str = "INFO"
    retry_window_s: float = 30.0
    retry_backoff_s: float = 0.5
    retry_max_backoff_s: float = 5.0
    min_free_bytes: int = 1024**3
    status_bind: str = "127.0.0.1"
    status_port: int = 9478

    def __post_init__(self) -> None:
        for key in ("poll_interval_s", "workers", "unknowns_watch_interval_s", "claim_timeout_s", "media_timeout_s",
                    "max_media_bytes", "retry_window_s", "retry_backoff_s", "retry_max_backoff_s"):
            _require(getattr(self, key) > 0, key, "must be positive")
        _require(self.retry_max_backoff_s >= self.retry_backoff_s, "retry_max_backoff_s",
                 "must not be below retry_backoff_s")
        _require(self.autotrain_debounce_s >= 0, "autotrain_debounce_s", "must not be negative")
        _require(self.log_level.upper() in LOG_LEVELS, "log_level", f"must be one of {', '.join(LOG_LEVELS)}")
        _require(self.min_free_bytes >= 0, "min_free_bytes", "must not be negative")
        _require(-1 <= self.status_port <= 65535, "status_port", "must be a port number, 0 (any free port) or -1 (off)")
        _require(bool(self.status_bind.strip()), "status_bind", "must be an address such as 127.0.0.1")


@dataclass(frozen=True)
class AnalysisDefaults:
    """Defaults of every cognitive_service_ parameter (reference §11.5) a job may override.

    ``confidence_threshold`` (ConfidenceThreshold): recognition confidence in [0, 1] needed
    to name a person. ``max_timespan_s`` (MaxTimespanLength): longer appearances are split
    (0 = never). ``import_unknowns`` (ImportUnknown): fingerprint faces matching nobody.
    ``unknown_collection_name`` (UnknownCollectionName): where new unknowns go.
    ``storage_id`` (StorageId): storage for new face samples (None = VidiCore's default).
    ``detection_threshold`` (DetectionThreshold): detection score in [0, 1] a face needs.
    ``keyframe_interval_s`` (KeyframeInterval): seconds between analysed frames.
    ``quality_setting`` (QualitySetting, training): Low, Mid or High.
    """

    confidence_threshold: float = AnalyzeParams.threshold
    max_timespan_s: float = AnalyzeParams.max_span_s
    import_unknowns: bool = AnalyzeParams.import_unknowns
    unknown_collection_name: str = "FoundByFaceAnalysis"
    storage_id: str | None = None
    detection_threshold: float = AnalyzeParams.detection_threshold
    keyframe_interval_s: float = AnalyzeParams.interval_s
    quality_setting: str = "Mid"

    def __post_init__(self) -> None:
        for key in ("confidence_threshold", "detection_threshold"):
            _require(0.0 <= getattr(self, key) <= 1.0, key, "must be between 0 and 1")
        _require(self.max_timespan_s >= 0, "max_timespan_s", "must not be negative")
        _require(self.keyframe_interval_s > 0, "keyframe_interval_s", "must be positive")
        _require(bool(self.unknown_collection_name.strip()), "unknown_collection_name", "must not be empty")
        _require(self.quality_setting in QUALITY_SETTINGS, "quality_setting", "must be Low, Mid or High")


@dataclass(frozen=True)
class ModelSettings:
    """Custom-insight models ("bring your own model", README).

    ``http``: models reached over HTTP, each ``"NAME=URL"`` (the only place a plugin URL
    comes from: a job names models, never addresses). ``run``: the models every analysis
    runs when the job (``cognitive_service_Models``) or the command (``--model``) names none.
    ``timeout_s``: seconds one HTTP call may take; ``retries``: further tries after a
    connection failure, timeout or 5xx, pausing ``retry_backoff_s`` doubled each time;
    ``max_answer_bytes``: larger answers fail the model. Frame selection (seed 001):
    ``every_s`` (none = the analysis interval), ``skip``, ``page_size`` (0 = all),
    ``only`` ("", "faces" or "person:NAME") and ``max_frames`` per request.
    """

    http: tuple[str, ...] = ()
    run: tuple[str, ...] = ()
    timeout_s: float = 30.0
    retries: int = 2
    retry_backoff_s: float = 0.5
    max_answer_bytes: int = 4 * 1024**2
    every_s: float | None = None
    skip: int = 0
    page_size: int = 0
    only: str = ""
    max_frames: int = 200

    def __post_init__(self) -> None:
        for key in ("timeout_s", "max_answer_bytes", "max_frames"):
            _require(getattr(self, key) > 0, key, "must be positive")
        for key in ("retries", "skip", "page_size", "retry_backoff_s"):
            _require(getattr(self, key) >= 0, key, "must not be negative")
        _require(self.every_s is None or self.every_s > 0, "every_s", "must be positive")
        try:
            self.frame_selection()
        except ValueError as exc:
            raise InvalidSetting("only", str(exc).partition(": ")[2] or str(exc)) from None
        self.http_urls()
        names = [entry.partition("=")[0].strip() for entry in self.http]
        _require(len(names) == len(set(names)), "http", "names a model twice")
        for name in self.run:
            _require(is_model_name(name), "run", f"{name!r}: a model name is {MODEL_NAME_RULE}")

    def http_urls(self) -> dict[str, str]:
        """The HTTP models: name -> URL (checked: a valid name, an http or https URL)."""
        found: dict[str, str] = {}
        for entry in self.http:
            name, sep, url = entry.partition("=")
            name, url = name.strip(), url.strip()
            _require(bool(sep) and is_model_name(name), "http",
                     f"entries are NAME=URL, NAME being {MODEL_NAME_RULE}")
            parts = urlsplit(url)
            _require(parts.scheme in ("http", "https") and bool(parts.hostname), "http",
                     f"model {name}: the URL must be http:// or https:// with a host")
            found[name] = url
        return found

    def frame_selection(self) -> FrameSelection:
        """The configured frame selection."""
        return FrameSelection(every_s=self.every_s, skip=self.skip, page_size=self.page_size, only=self.only,
                              max_frames=self.max_frames)


@dataclass(frozen=True)
class CharacterSettings:
    """Animated characters (README "Animated characters").

    ``cascade``: the path of nagadomi's ``lbpcascade_animeface.xml``, which the character
    engine (a job's ``cognitive_service_AnimationModel``) detects anime faces with; it ships
    in no package and the repository carries nothing from outside, so it is given here.
    None: a job asking for characters fails, naming this setting.
    """

    cascade: Path | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the service is built from; one section per room it configures."""

    vidicore: VidiCoreSettings = field(default_factory=VidiCoreSettings)
    callback: CallbackSettings = field(default_factory=CallbackSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    analysis: AnalysisDefaults = field(default_factory=AnalysisDefaults)
    engine: EngineSettings = field(default_factory=EngineSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    characters: CharacterSettings = field(default_factory=CharacterSettings)

    def secrets(self) -> tuple[str, ...]:
        """The non-empty secret values, for the log filter's explicit list."""
        in_uri = unquote(urlsplit(self.callback.uri.reveal()).password or "")
        in_url = unquote(urlsplit(self.vidicore.url).password or "")
        in_store = unquote(urlsplit(self.store.url.reveal()).password or "") if self.store.is_postgres() else ""
        in_models = tuple(unquote(urlsplit(url).password or "") for url in self.models.http_urls().values())
        found = (self.vidicore.password.reveal(), self.callback.secret_access_key.reveal(), in_uri, in_url, in_store,
                 *in_models)
        return tuple(s for s in found if s)


SECTIONS: dict[str, type[Any]] = {"vidicore": VidiCoreSettings, "callback": CallbackSettings, "store": StoreSettings,
                                  "service": ServiceSettings, "analysis": AnalysisDefaults, "engine": EngineSettings,
                                  "models": ModelSettings, "characters": CharacterSettings}
_BOOLS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
_KINDS = {bool: "true or false", int: "an integer", float: "a number", Path: "a path"}


def load_settings(path: Path | None, environ: Mapping[str, str],
                  overrides: Mapping[str, object] | None = None) -> Settings:
    """Settings from the TOML file at ``path`` (None = none), then ``environ``, then ``overrides``.

    Variables ``VIDIPLUG_<SECTION>__<KEY>`` (e.g. ``VIDIPLUG_VIDICORE__PASSWORD``) are
    settings; other ``VIDIPLUG_`` names (no ``__``) are ignored. An empty variable makes an
    optional setting None; booleans read true/false/yes/no/on/off/1/0; lists are
    comma-separated. ``overrides`` maps ``"section.key"`` to a value (command-line flags).
    Raises ConfigError naming the key and the file or variable for an unknown section or
    key, a wrong type or a value out of range.
    """
    values: dict[str, dict[str, _Entry]] = {name: {} for name in SECTIONS}
    for section, table in _read_toml(path).items() if path is not None else ():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section!r} must be a [section] table")
        for key, value in table.items():
            _put(values, section, key, (value, str(path), False))
    for name, value in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX):].partition("__")
            _put(values, section.lower(), key.lower(), (value, f"environment variable {name}", True))
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        _put(values, section, key, (value, f"override {dotted!r}", False))
    return Settings(**{name: _build(name, values[name]) for name in SECTIONS})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load the config file ({getattr(exc, 'strerror', None) or exc})") from exc


def _put(values: dict[str, dict[str, _Entry]], section: str, key: str, entry: _Entry) -> None:
    if section not in SECTIONS:
        raise ConfigError(f"unknown section [{section}] in {entry[1]}")
    if key not in {f.name for f in fields(SECTIONS[section])}:
        raise ConfigError(f"unknown setting {section}.{key} in {entry[1]}")
    values[section][key] = entry


def _build(section: str, entries: dict[str, _Entry]) -> Any:
    hints = get_type_hints(SECTIONS[section])
    kwargs = {key: _coerce(f"{section}.{key}", value, hints[key], origin, from_env)
              for key, (value, origin, from_env) in entries.items()}
    try:
        return replace(SECTIONS[section](), **kwargs)
    except InvalidSetting as exc:
        origin = entries[exc.key][1] if exc.key in entries else "the defaults"
        raise ConfigError(f"{section}.{exc.key} in {origin}: {exc.reason}") from None


def _coerce(name: str, value: object, hint: Any, origin: str, from_env: bool) -> object:
    if get_origin(hint) in (Union, UnionType) and type(None) in get_args(hint):
        if value is None or (from_env and value == ""):
            return None
        hint = next(a for a in get_args(hint) if a is not type(None))
    try:
        return _convert(value, hint, from_env)
    except ValueError:
        kind = "a list of strings" if get_origin(hint) is tuple else _KINDS.get(hint, "a string")
        shown = "" if hint is Secret else f", got {value!r}"  # never echo a secret
        raise ConfigError(f"{name} in {origin}: expected {kind}{shown}") from None


def _convert(value: object, hint: Any, from_env: bool) -> object:
    if from_env and isinstance(value, str):
        if hint is bool and value.strip().lower() in _BOOLS:
            return _BOOLS[value.strip().lower()]
        if hint in (int, float):
            return hint(value.strip())
        if get_origin(hint) is tuple:
            return tuple(part.strip() for part in value.split(",") if part.strip())
    if hint is Secret and isinstance(value, (str, Secret)):
        return value if isinstance(value, Secret) else Secret(value)
    if hint is Path and isinstance(value, (str, Path)):
        return Path(value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if get_origin(hint) is tuple and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if hint in (str, bool, int) and type(value) is hint:
        return value
    raise ValueError

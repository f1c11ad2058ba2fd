"""Which custom-insight models exist, by name, and loading them (entry points and ``models.http``)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from vidiplug.errors import ConfigError, ModelError
from vidiplug.pipeline.byom import Model
from vidiplug.pipeline.insights import MODEL_NAME_RULE, is_model_name
from vidiplug.plugins.http import HttpModel
from vidiplug.settings import ModelSettings

log = logging.getLogger("vidiplug.models")
ENTRY_POINT_GROUP = "vidiplug.models"
# The example shipped with vidiplug; its entry point is in pyproject.toml. Known here too, so an
# installation whose metadata predates it (an old editable install) still has it.
BUILTIN = {"shot-type": "vidiplug.examples.shot_type:ShotTypeModel"}


@dataclass(frozen=True)
class ModelEntry:
    """One model that can run: its name, ``in-process`` or ``http``, and where it comes from."""

    name: str
    kind: str
    source: str


def installed_models() -> dict[str, str]:
    """In-process models: name -> ``module:attribute``, from the ``vidiplug.models`` entry points.

    Entry points whose name is not a valid model name are left out, with a warning.
    """
    found = dict(BUILTIN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if not is_model_name(point.name):
            log.warning("entry point %a in %s ignored: a model name is %s", point.name, ENTRY_POINT_GROUP,
                        MODEL_NAME_RULE)
            continue
        found[point.name] = point.value
    return dict(sorted(found.items()))


def available_models(settings: ModelSettings) -> list[ModelEntry]:
    """Every model that can run, installed first, then configured HTTP ones (sorted by name).

    A name both installed and configured is a ConfigError: which one a job meant would be a guess.
    """
    installed = installed_models()
    http = settings.http_urls()
    both = sorted(set(installed) & set(http))
    if both:
        raise ConfigError(f"models.http: {', '.join(both)} is also an installed model; give it another name")
    entries = [ModelEntry(name, "in-process", value) for name, value in installed.items()]
    entries += [ModelEntry(name, "http", "models.http") for name in sorted(http)]
    return entries


def load_models(names: Iterable[str], settings: ModelSettings) -> list[Model]:
    """The models ``names`` names, ready to run; ModelError naming one that is neither installed nor configured."""
    installed = installed_models()
    http = settings.http_urls()
    models: list[Model] = []
    for name in dict.fromkeys(names):
        if name in http and name not in installed:
            models.append(HttpModel(name, http[name], timeout_s=settings.timeout_s, retries=settings.retries,
                                    backoff_s=settings.retry_backoff_s, max_answer_bytes=settings.max_answer_bytes))
        elif name in installed:
            models.append(_load_in_process(name, installed[name]))
        else:
            known = ", ".join([*installed, *http]) or "none"
            raise ModelError(ascii(name)[1:-1][:60], "name", f"is neither installed nor configured (known: {known})")
    return models


def _load_in_process(name: str, value: str) -> Model:
    module_name, _, attribute = value.partition(":")
    try:
        target: object = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            target = getattr(target, part)
        model = target() if callable(target) and (isinstance(target, type) or not hasattr(target, "analyze")) \
            else target
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported by name, not as a crash
        raise ModelError(name, "entry point", f"{value} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, Model):
        raise ModelError(name, "entry point", f"{value} is not a model (needs a name and analyze(request))")
    if model.name != name:
        raise ModelError(name, "name", f"the model calls itself {model.name!a}, its entry point {name!r}")
    return model

"""Direct mode's requests: what operators ask for with VidiCore's documented API, turned into runs.

- **Analysis**: an item added to the analysis queue collection (``service.analysis_queue``).
- **Training**: ``vidiplug_trainingRequested=true`` on the training collection (set by an
  operator, or by autotrain).
- **Relabel and merge** are asked for on unknown-face items (``vcs_face_value``,
  ``vidiplug_mergeInto``); the unknowns watch runs them.

Job parameters come with a request as values of ``vidiplug_jobParameter``, one
``cognitive_service_Name=value`` each, the names and values of the bridge's jobmetadata.
A request becomes a ``Job`` the handlers of runner.py run unchanged; its outcome is written
to the requested item or collection (RequestStatus).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from vidiplug.errors import JobParameterError
from vidiplug.service.declaration import PARAMETER_FIELD
from vidiplug.vidicore.documents import Job, JobState

PARAMETER_PREFIX = "cognitive_service_"
OTHER_PARAMETERS = frozenset({"tag", "vidiplugAutotrain", "vidiplugAutotrainReason"})
"""Job data keys a request may set besides the ``cognitive_service_`` ones (``tag``: the shape to analyse)."""


def request_parameters(values: Iterable[str]) -> dict[str, str]:
    """The job parameters of a request's ``vidiplug_jobParameter`` values.

    Raises JobParameterError naming the field and the value for one that is not
    ``name=value``, or whose name is neither ``cognitive_service_...`` nor in
    OTHER_PARAMETERS (a request cannot set ``itemId`` or other job data of its own).
    """
    parameters: dict[str, str] = {}
    for value in values:
        if not value.strip():
            continue  # an emptied field: no parameter
        name, equals, given = value.partition("=")
        name = name.strip()
        if not equals or not name:
            raise JobParameterError(PARAMETER_FIELD, value, "must be name=value, e.g. "
                                                            "cognitive_service_ConfidenceThreshold=0.8")
        if not (name.startswith(PARAMETER_PREFIX) and len(name) > len(PARAMETER_PREFIX)) \
                and name not in OTHER_PARAMETERS:
            raise JobParameterError(PARAMETER_FIELD, value, f"names a parameter vidiplug does not take "
                                                            f"(names start with {PARAMETER_PREFIX})")
        parameters[name] = given.strip()
    return parameters


def run_id(kind: str, target_id: str, now: datetime | None = None) -> str:
    """A run's id, also the folder of its CallbackDocuments: ``analyze-VX-12-20261203T141500123456``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
    return f"{kind}-{target_id}-{stamp}"


def request_job(run: str, job_type: str, data: Mapping[str, str], parameters: Mapping[str, str]) -> Job:
    """The Job a handler runs for a request: ``parameters`` first, so they cannot replace ``data``."""
    return Job(id=run, type=job_type, state=JobState.STARTED, data=MappingProxyType({**parameters, **data}),
               user="", failure_reason=None)

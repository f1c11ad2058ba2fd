"""Custom job calls: start a job of a type a service configuration declared (``POST /API/job?type=``).

Part of VidiCoreClient; speaks HTTP only through Transport. The face service's merge and
relabel job types (reference §11.4) are started this way.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidiplug.errors import JobParameterError
from vidiplug.vidicore.documents import Job, parse_job
from vidiplug.vidicore.transport import Params, Transport


class CustomJobCalls(Transport):
    """``POST /API/job``."""

    def start_job(self, job_type: str, jobmetadata: Mapping[str, str]) -> Job:
        """Start a job of the custom type ``job_type`` (e.g. ``VCS_TRAINING_RELABEL_ITEM``); the READY job.

        ``jobmetadata`` becomes the job's data (``itemId``, ``newLabel``, ...); a key must
        not be empty or hold ``=``. VidiCore's ``POST /job`` takes only ``type``,
        ``jobmetadata``, ``priority`` and ``notification*`` (reference §7.3): no callback
        resource. The service names its own when it hands the job back. Raises
        VidiCoreError (400) for a type no configuration declared.
        """
        params: Params = [("type", job_type)]
        for key, value in jobmetadata.items():
            if not key or "=" in key:
                raise JobParameterError(key, value, "a jobmetadata key must be non-empty and hold no '='")
            params = [*params, ("jobmetadata", f"{key}={value}")]
        return parse_job(self._json("POST", "job", params=params))

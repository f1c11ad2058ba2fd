"""HTTP models: POST the request as JSON (frames as base64 JPEG), read back seed 001's schema.

The URL comes from ``models.http`` only. Each call has a deadline (``timeout_s``, for the
whole answer, not only between bytes); connection failures, timeouts and 5xx answers are
tried again ``retries`` times with exponential backoff (tenacity); redirects are not
followed (the configured URL is the only host called); answers over ``max_answer_bytes``
are refused while they are read. Errors never show the URL (it may carry credentials).
"""

from __future__ import annotations

import base64
import io
import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from PIL import Image
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from vidiplug.errors import ModelError, ModelUnavailable
from vidiplug.pipeline.byom import ModelFrame, ModelRequest
from vidiplug.pipeline.insights import format_time

JPEG_QUALITY = 85
CHUNK_BYTES = 64 * 1024


def request_json(request: ModelRequest) -> dict[str, Any]:
    """The JSON body an HTTP model receives (README "Bring your own model" shows it)."""
    media = request.media
    return {
        "model": request.model,
        "media": {"duration": round(media.duration_s, 3), "fps": round(media.fps, 3),
                  "width": media.width, "height": media.height},
        "everySeconds": round(request.every_s, 3),
        "frames": [_frame_json(frame, request) for frame in request.frames],
    }


def _frame_json(frame: ModelFrame, request: ModelRequest) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.fromarray(frame.image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return {
        "index": frame.index,
        "time": round(frame.time_s, 3),
        "timecode": format_time(frame.time_s),
        "width": frame.width,
        "height": frame.height,
        "image": {"contentType": "image/jpeg", "data": base64.b64encode(buffer.getvalue()).decode("ascii")},
        "faces": [
            {"time": round(face.time_s, 3), "box": [round(float(v), 1) for v in face.box.as_list()],
             "detectionScore": round(face.det_score, 4), "trackId": face.track_id,
             "fingerprint": face.fingerprint, "name": request.names.get(face.fingerprint or ""),
             "score": round(face.score, 4)}
            for face in frame.faces
        ],
    }


@dataclass
class HttpModel:
    """A model behind a configured URL; ``analyze`` returns its parsed JSON answer (validated by the caller)."""

    name: str
    url: str
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5
    max_answer_bytes: int = 4 * 1024**2

    def analyze(self, request: ModelRequest) -> object:
        body = json.dumps(request_json(request), separators=(",", ":")).encode("utf-8")
        retrying = Retrying(
            retry=retry_if_exception_type(ModelUnavailable),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff_s, max=max(self.backoff_s * 8, 0.0)),
            reraise=True,
        )
        try:
            return retrying(self._call, body)
        except ModelUnavailable as exc:
            tries = self.retries + 1
            raise ModelUnavailable(self.name, exc.field, f"{exc.reason} ({tries} {'try' if tries == 1 else 'tries'})"
                                   ) from None

    def _call(self, body: bytes) -> object:
        deadline = time.monotonic() + self.timeout_s
        try:
            with requests.post(self.url, data=body, headers={"Content-Type": "application/json",
                                                              "Accept": "application/json"},
                               timeout=(self.timeout_s, self.timeout_s), stream=True,
                               allow_redirects=False) as answer:
                if answer.status_code >= 500:
                    raise ModelUnavailable(self.name, "answer", f"HTTP {answer.status_code}")
                if answer.status_code != 200:
                    raise ModelError(self.name, "answer", f"HTTP {answer.status_code} (expected 200)")
                declared = answer.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_answer_bytes:
                    raise ModelError(self.name, "answer", f"{declared} bytes, over the limit of "
                                                          f"{self.max_answer_bytes} (models.max_answer_bytes)")
                data = self._read(answer, deadline)
        except requests.Timeout:
            raise ModelUnavailable(self.name, "request", f"no answer within {self.timeout_s:g} s") from None
        except requests.ConnectionError as exc:
            reason = "timed out" if "timed out" in str(exc).lower() else "could not connect"
            raise ModelUnavailable(self.name, "request", reason) from None
        except requests.RequestException as exc:
            raise ModelError(self.name, "request", type(exc).__name__) from None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ModelError(self.name, "answer", "is not JSON (UTF-8)") from None

    def _read(self, answer: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise ModelError(self.name, "answer", f"over the limit of {self.max_answer_bytes} bytes "
                                                      "(models.max_answer_bytes)")
            if time.monotonic() > deadline:
                raise ModelUnavailable(self.name, "request", f"no whole answer within {self.timeout_s:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

"""analyze_media: a media file + a gallery → who appears when (the CLI's and the service's core).

Decodes only sampled frames, detects in parallel threads, embeds every face, links faces
into tracks within shots (tracking.py), verifies and identifies tracks (identify.py, no side
effects), records the decisions (record.py: thumbnails, store writes) and consolidates the
record into people (people.py).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Detection, Engine
from vidiplug.engine.emotion import EmotionClassifier
from vidiplug.identity.gallery import Gallery
from vidiplug.identity.quality import face_quality
from vidiplug.identity.store import IdentityStore
from vidiplug.media import DecodeStats, Frame, iter_media_frames, probe_media
from vidiplug.pipeline.detection import frame_detector, luma_size_of
from vidiplug.pipeline.heap import release_free_heap
from vidiplug.pipeline.identify import identify_tracks
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.people import identity_facts, people_from_records, track_records
from vidiplug.pipeline.prefetch import prefetch
from vidiplug.pipeline.record import record_decisions
from vidiplug.pipeline.resolution import frame_pixel_budget, min_source_side_px, to_source_box
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.pipeline.tracking import FrameSignature, Observation, Tracker, frame_signature, scene_changed

ProgressCallback = Callable[[float], None]
CROP_MARGIN = 0.12  # thumbnails are tight crops with a small margin around the detected box


def analyze_media(
    path: Path,
    engine: Engine,
    gallery: Gallery | None = None,
    params: AnalyzeParams | None = None,
    *,
    store: IdentityStore | None = None,
    progress: ProgressCallback | None = None,
    emotion: EmotionClassifier | None = None,
) -> AnalysisResult:
    """Find, track and identify every face in a video or image.

    ``gallery`` holds the identities to match (known people and, from a store, stored
    unknown fingerprints); it must be in ``engine.info``'s vector space. With ``store``,
    new unknown fingerprints are saved there (with thumbnail and representative vectors)
    and matched ones are enriched. ``progress`` is called with the media time reached (s).
    Frames over ``frame_pixel_budget(engine)`` pixels are decoded scaled down; boxes
    are reported in the source picture's pixels all the same. With ``emotion``, every embedded
    face is also scored by the expression model (one small network run per embedded face, the
    faces of a frame in one batch) into its record's ``attributes["emotion"]``.
    Raises MediaError naming the file when it cannot be read.
    """
    params = params or AnalyzeParams()
    gallery = gallery if gallery is not None else Gallery(engine.info)
    if gallery.info.key != engine.info.key:
        raise ValueError(f"gallery vectors come from {gallery.info.key}, engine is {engine.info.key}")
    started = time.perf_counter()
    info = probe_media(path)
    rules = engine.info.rules
    tracker = Tracker(rules)
    stats = DecodeStats()
    counters = {"frames": 0, "embedded": 0, "emotion": 0}
    previous_signature: list[FrameSignature | None] = [None]

    def handle(frame: Frame, found: list[Detection]) -> None:
        counters["frames"] += 1
        faces = [
            d for d in found
            if min_source_side_px(d, frame) >= params.min_face_px and d.score >= params.detection_threshold
        ]
        signature = frame_signature(frame.image)
        cut = scene_changed(previous_signature[0], signature)
        previous_signature[0] = signature
        # Every face is embedded: identity evidence is never carried over from a neighbour unchecked.
        vectors = engine.embed(frame.image, faces) if faces else np.zeros((0, engine.info.dim), np.float32)
        counters["embedded"] += len(faces)
        attributes = _emotion_attributes(emotion, frame, faces)
        counters["emotion"] += len(faces) if emotion is not None else 0
        observations = [
            Observation(
                frame.index, frame.time_s, to_source_box(det.box, frame), det.score,
                face_quality(frame.image, det), vector, extra,
            )
            for det, vector, extra in zip(faces, vectors, attributes)
        ]
        crops = [tight_crop(frame.image, det) for det in faces]
        tracker.update(frame.index, observations, scene_cut=cut, crops=crops,
                       gallery_scores=gallery.similarity(vectors))
        if progress is not None:
            progress(frame.time_s)

    # The decoder also scales each frame to the grey picture the detector works on, if it wants one,
    # and scales frames larger than the budget down before they are held (memory bounded by pixels).
    decoded = iter_media_frames(
        path, info, params.interval_s, stats, luma_size=luma_size_of(engine), max_pixels=frame_pixel_budget(engine)
    )
    try:
        _detect_in_parallel(decoded, engine, params.workers, handle)
    finally:
        # The frames are gone: give their memory back, so a service rests near its baseline after a big job.
        release_free_heap()
    decisions = identify_tracks(tracker, gallery, params, rules)
    judged = {identity.id for identity in gallery.identities}
    judged |= {d.identity.id for d in decisions if d.is_new and d.identity is not None}
    recorded = record_decisions(decisions, engine.info, store=store, keep_vectors=params.keep_vectors,
                                judged=judged, join_similarity=rules.group, gallery=gallery)
    tracks = track_records(recorded.decisions)
    people = people_from_records(
        tracks, identity_facts(recorded.decisions), recorded.thumbnails,
        interval_s=params.interval_s, duration_s=info.duration_s, max_span_s=params.max_span_s,
    )
    return AnalysisResult(
        media=info,
        engine=engine.info,
        providers=tuple(engine.providers),
        interval_s=params.interval_s,
        frames_analyzed=counters["frames"],
        faces_embedded=counters["embedded"],
        people=tuple(people),
        analyzed_at=datetime.now(UTC),
        elapsed_s=time.perf_counter() - started,
        tracks=tracks,
        emotion=emotion.info if emotion is not None else None,
        faces_emotion_scored=counters["emotion"],
    )


def _detect_in_parallel(
    decoded: Iterator[Frame], engine: Engine, workers: int, handle: Callable[[Frame, list[Detection]], None]
) -> None:
    """Decode ahead on a thread, detect on ``workers`` threads, and ``handle`` each frame in order on this one."""
    frames = prefetch(decoded, depth=workers + 1, name="decode")
    detect = frame_detector(engine)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect") as pool:
        pending: deque[tuple[Frame, Future[list[Detection]]]] = deque()
        try:
            for frame in frames:
                pending.append((frame, pool.submit(detect, frame)))
                while len(pending) > workers + 1:
                    done_frame, future = pending.popleft()
                    handle(done_frame, future.result())
            while pending:
                done_frame, future = pending.popleft()
                handle(done_frame, future.result())
        finally:
            for _, future in pending:
                future.cancel()


def _emotion_attributes(
    emotion: EmotionClassifier | None, frame: Frame, faces: list[Detection]
) -> list[Mapping[str, object]]:
    """Per face, its record's attributes: ``{"emotion": scores}`` when emotion is asked for, else empty."""
    if emotion is None or not faces:
        return [MappingProxyType({}) for _ in faces]
    return [MappingProxyType({"emotion": scores}) for scores in emotion.classify(frame.image, [d.box for d in faces])]


def tight_crop(image: NDArray[np.uint8], det: Detection, margin: float = CROP_MARGIN) -> NDArray[np.uint8]:
    """The face's box grown by ``margin`` of its size on each side, clipped to the image (a copy)."""
    height, width = image.shape[:2]
    box = det.box
    dx, dy = box.width * margin, box.height * margin
    x1, y1 = max(0, int(box.x1 - dx)), max(0, int(box.y1 - dy))
    x2, y2 = min(width, int(box.x2 + dx + 0.5)), min(height, int(box.y2 + dy + 0.5))
    return image[y1:y2, x1:x2].copy()

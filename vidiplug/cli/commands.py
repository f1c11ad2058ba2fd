"""The work behind each CLI command: build engine/store/gallery, run, print.

Part of the CLI room: the only place besides cli/__init__.py that prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from platformdirs import user_cache_dir

from vidiplug.engine import Engine, load_engine
from vidiplug.engine.emotion import EmotionClassifier
from vidiplug.errors import MediaError, VidiplugError
from vidiplug.identity.gallery import Gallery
from vidiplug.identity.store import IdentityStore, open_store, redact_url
from vidiplug.media import probe_media
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.emotion import EmotionOptions
from vidiplug.pipeline.enroll import enroll_images, load_folder_gallery
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.service.params import parse_analyze_params
from vidiplug.settings import Settings, load_settings


def resolve_media(text: str) -> Path:
    """A media path, or the bundled sample file for ``sample:NAME`` (built once in the cache dir)."""
    from vidiplug.media.samples import is_sample, sample_path

    if is_sample(text):
        return sample_path(text, Path(user_cache_dir("vidiplug")) / "samples")
    return Path(text)


# Each flag and the setting it overrides (file < environment < flag).
FLAG_SETTINGS = {
    "engine": "engine.name",
    "models_root": "engine.models_root",
    "pack": "engine.pack",
    "detect_size": "engine.detect_size_px",
    "detection_threshold": "analysis.detection_threshold",
    "interval": "analysis.keyframe_interval_s",
    "threshold": "analysis.confidence_threshold",
    "max_span": "analysis.max_timespan_s",
    "model_every": "models.every_s",
    "model_skip": "models.skip",
    "model_page_size": "models.page_size",
    "model_frames_with": "models.only",
}


def settings_from(args: argparse.Namespace, extra: dict[str, object] | None = None) -> Settings:
    """The settings a command runs with: ``--config``'s file, then the environment, then the flags given
    (then ``extra``, what the command itself fixes). Raises ConfigError naming the key and where it came from.
    """
    overrides: dict[str, object] = {
        key: getattr(args, flag) for flag, key in FLAG_SETTINGS.items() if getattr(args, flag, None) is not None
    }
    if getattr(args, "no_unknowns", False):
        overrides["analysis.import_unknowns"] = False
    store = getattr(args, "store", None)
    if store:  # "" (a bare --store) keeps the configured store
        overrides["store.url"] = store
        overrides["store.path"] = None
    return load_settings(getattr(args, "config", None), os.environ, {**overrides, **(extra or {})})


def analyze_params(args: argparse.Namespace, settings: Settings) -> AnalyzeParams:
    """AnalyzeParams from the settings' analysis defaults and the CLI-only knobs (--min-face, --workers)."""
    base = AnalyzeParams()
    if args.min_face is not None:
        base = replace(base, min_face_px=args.min_face)
    if args.workers is not None:
        base = replace(base, workers=args.workers)
    return parse_analyze_params({}, settings.analysis, base).analysis


def _engine(settings: Settings) -> Engine:
    return load_engine(settings.engine)


def run_analyze(args: argparse.Namespace) -> int:
    """``vidiplug analyze``: print the JSON report or MetadataDocument of one media file."""
    from vidiplug.render.json_report import render_json_report
    from vidiplug.render.metadata_xml import render_metadata_xml

    media = resolve_media(args.media)
    if getattr(args, "characters", None):
        from vidiplug.cli.character_commands import run_character_analyze

        return run_character_analyze(args, media)
    info = probe_media(media)  # fail on a bad file before loading any model
    settings = settings_from(args)
    params = analyze_params(args, settings)  # a ParameterError names the parameter; main() reports it
    emotion_options = emotion_options_from(args)
    from vidiplug.plugins import load_models

    models = load_models(args.models if args.models else settings.models.run, settings.models)
    engine = _engine(settings)
    emotion = EmotionClassifier(settings.engine.providers or None) if emotion_options.enabled else None
    store = open_store(settings.store.resolved_url()) if args.store is not None else None
    try:
        gallery = store.load_gallery(engine.info) if store is not None else Gallery(engine.info)
        if args.gallery is not None:
            load_folder_gallery(args.gallery, engine, into=gallery)
        result = _analyze_with_progress(media, info.duration_s, engine, gallery, params, store, emotion)
    finally:
        if store is not None:
            store.close()
    if models:
        from vidiplug.pipeline.byom import run_models

        result = run_models(media, result, models, settings.models.frame_selection())
    thumbnails = _write_thumbnails(result, args.thumbnails) if args.thumbnails else {}
    if args.format == "xml":
        document = render_metadata_xml(result)
    elif args.format == "azure-faces":
        document = _azure_faces(result, params, args)
    else:
        document = (render_json_report(result, thumbnails, faces=args.faces) + "\n").encode("utf-8")
    if args.out is not None:
        args.out.write_bytes(document)
    else:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    if emotion_options.enabled:
        _write_emotion_document(result, emotion_options, emotion_path(args, media))
    _print_summary(result)
    for failure in result.model_failures:
        print(f"vidiplug: error: {failure.message} (the faces are reported all the same)", file=sys.stderr)
    return 2 if result.model_failures else 0


def emotion_options_from(args: argparse.Namespace) -> EmotionOptions:
    """The emotion mode and aggregate windows asked for; ParameterError names the seed's option when out of range."""
    return EmotionOptions(getattr(args, "emotion", "none"),
                          getattr(args, "aggregate_emotion_window_ms", EmotionOptions.window_ms),
                          getattr(args, "aggregate_emotion_interval_ms", EmotionOptions.interval_ms))


def emotion_path(args: argparse.Namespace, media: Path) -> Path:
    """Where the seed's emotion document goes: --emotion-out, else beside --out, else MEDIA.emotion.json here."""
    if getattr(args, "emotion_out", None) is not None:
        return Path(args.emotion_out)
    if args.out is not None:
        return Path(args.out).with_suffix(".emotion.json")
    return Path(f"{media.stem}.emotion.json")


def _write_emotion_document(result: AnalysisResult, options: EmotionOptions, path: Path) -> None:
    from vidiplug.render.azure_emotion import render_emotion_document

    path.write_text(render_emotion_document(result, options) + "\n", encoding="utf-8")
    info = result.emotion
    missing = f"; no {', '.join(info.missing_classes)} class" if info is not None and info.missing_classes else ""
    model = f"{info.name} ({info.package} {info.version}, {info.licence}{missing})" if info is not None else "-"
    print(f"vidiplug: {options.mode} emotion of {result.faces_emotion_scored} faces written to {path}, "
          f"model {model}", file=sys.stderr)


def _azure_faces(result: AnalysisResult, params: AnalyzeParams, args: argparse.Namespace) -> bytes:
    """Seed 003's face-detection JSON; what its limits dropped is always reported on stderr (one line)."""
    from vidiplug.render.azure_faces import MAX_FACES_PER_FRAME, AzureFacesOptions, build_azure_faces

    options = AzureFacesOptions(min_face_px=params.min_face_px,
                                max_faces_per_frame=args.max_faces or MAX_FACES_PER_FRAME)
    built = build_azure_faces(result, options)
    print(f"vidiplug: azure-faces: dropped {built.dropped.too_small} faces under {options.min_face_px} px and "
          f"{built.dropped.over_limit} over {options.max_faces_per_frame} per frame", file=sys.stderr)
    return (json.dumps(built.document, indent=2) + "\n").encode("utf-8")


def _analyze_with_progress(
    media: Path, duration_s: float, engine: Engine, gallery: Gallery, params: AnalyzeParams,
    store: IdentityStore | None, emotion: EmotionClassifier | None = None,
) -> AnalysisResult:
    if not sys.stderr.isatty() or duration_s <= 0:
        return analyze_media(media, engine, gallery, params, store=store, emotion=emotion)
    from tqdm import tqdm

    with tqdm(total=round(duration_s, 1), unit="s", desc=media.name, file=sys.stderr, leave=False,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]") as bar:
        def progress(time_s: float) -> None:
            bar.update(max(0.0, min(time_s, duration_s) - bar.n))

        return analyze_media(media, engine, gallery, params, store=store, progress=progress, emotion=emotion)


def _write_thumbnails(result: AnalysisResult, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for person in result.people:
        if person.thumbnail_jpeg:
            path = folder / f"{person.fingerprint}.jpg"
            path.write_bytes(person.thumbnail_jpeg)
            written[person.fingerprint] = str(path)
    return written


def _print_summary(result: AnalysisResult) -> None:
    rate = result.frames_analyzed / result.elapsed_s if result.elapsed_s > 0 else 0.0
    realtime = result.media.duration_s / result.elapsed_s if result.elapsed_s > 0 else 0.0
    print(
        f"vidiplug: {len(result.people)} people ({len(result.people) - result.unknown_count} known, "
        f"{result.unknown_count} unknown), {result.appearance_count} appearances, "
        f"{result.frames_analyzed} frames in {result.elapsed_s:.1f} s "
        f"({rate:.1f} frames/s, {realtime:.1f}x real time), "
        f"engine {result.engine.name}",
        file=sys.stderr,
    )


def run_enroll(args: argparse.Namespace) -> int:
    """``vidiplug enroll NAME IMAGE...``: add a person's photos to the store; 2 if none was usable."""
    for image in args.images:
        if not image.is_file():
            raise MediaError(str(image), "no such file")
    settings = settings_from(args)
    engine = _engine(settings)
    with open_store(settings.store.resolved_url()) as store:
        outcomes = enroll_images(args.name, list(args.images), engine, store)
    for outcome in outcomes:
        status = "ok" if outcome.accepted else "rejected"
        detail = f" ({outcome.reason})" if outcome.reason else f" (quality {outcome.quality:.2f})"
        print(f"{status}: {outcome.source}{detail}", file=sys.stderr)
    accepted = sum(o.accepted for o in outcomes)
    print(f"vidiplug: {accepted} of {len(outcomes)} images enrolled for {args.name!r} ({engine.info.name})",
          file=sys.stderr)
    return 0 if accepted else 2


def run_people(args: argparse.Namespace) -> int:
    """``vidiplug people``: list identities, or rename / suppress / unsuppress / remove one."""
    store_url = settings_from(args).store.resolved_url()
    with open_store(store_url) as store:
        if args.rename:
            identity = store.rename(args.rename[0], args.rename[1])
            print(f"{args.rename[0]} is now {identity.name!r} ({identity.id})", file=sys.stderr)
            return 0
        if args.suppress or args.unsuppress:
            target = args.suppress or args.unsuppress
            store.set_suppressed(target, bool(args.suppress))
            print(f"{target} {'suppressed' if args.suppress else 'restored'}", file=sys.stderr)
            return 0
        if args.remove:
            store.remove(args.remove)
            print(f"{args.remove} removed", file=sys.stderr)
            return 0
        summaries = store.summaries()
    if args.format == "json":
        print(json.dumps([
            {"id": s.identity.id, "name": s.identity.name, "kind": s.identity.kind.value,
             "suppressed": s.identity.suppressed, "vectors": s.vector_counts, "created": s.created_at}
            for s in summaries
        ], indent=2, ensure_ascii=False))
        return 0
    if not summaries:
        print(f"no identities in {redact_url(store_url)}")
    for s in summaries:
        vectors = ", ".join(f"{n} {key.split('/')[0]}" for key, n in s.vector_counts.items()) or "no vectors"
        flag = " [suppressed]" if s.identity.suppressed else ""
        print(f"{s.identity.id}  {s.identity.kind.value:7}  {s.identity.name or '-'}  ({vectors}){flag}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    """``vidiplug models``: what is installed, and how to install an insightface pack."""
    from vidiplug.engine.models import (
        default_models_root,
        dlib_models_available,
        install_instructions,
        list_installed_packs,
    )
    from vidiplug.engine.registry import engine_names
    from vidiplug.plugins import available_models

    settings = settings_from(args)
    root = default_models_root(settings.engine.models_root)
    print(f"face engines: {', '.join(engine_names())}")
    print(f"dlib engine: {'installed (face_recognition_models)' if dlib_models_available() else 'NOT installed'}")
    packs = list_installed_packs(root)
    if packs:
        for pack in packs:
            print(f"insightface pack: {pack}")
    else:
        print(f"insightface packs: none under {root}")
    custom = available_models(settings.models)
    for entry in custom:
        print(f"custom model: {entry.name}  ({entry.kind}, {entry.source})")
    if not custom:
        print("custom models: none")
    print()
    print(install_instructions(root))
    return 0


__all__ = ["VidiplugError", "run_analyze", "run_enroll", "run_models", "run_people"]

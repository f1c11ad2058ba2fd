"""``vidiplug characters train SERIES DIR`` and ``vidiplug analyze MEDIA --characters SERIES``.

Part of the CLI room: builds the CharacterEngine and the store, runs the pipeline, prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vidiplug.engine.character import CharacterEngine
from vidiplug.errors import MediaError, VidiplugError
from vidiplug.identity.gallery import Gallery
from vidiplug.identity.store import open_store
from vidiplug.media import probe_media
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.characters import character_gallery, train_series
from vidiplug.render.animated_characters import animated_characters_json
from vidiplug.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    from vidiplug.cli.commands import settings_from

    return settings_from(args)


def run_characters(args: argparse.Namespace) -> int:
    """``vidiplug characters train SERIES DIR``: one character per sub-folder into the series' model."""
    engine = CharacterEngine(args.series, args.cascade)
    settings = _settings(args)
    with open_store(settings.store.resolved_url()) as store:
        outcomes = train_series(engine, store, args.folder)
    for outcome in outcomes:
        detail = "ok" if outcome.accepted else f"skipped ({outcome.reason})"
        print(f"{outcome.character}: {outcome.source.name}: {detail}", file=sys.stderr)
    accepted = sum(o.accepted for o in outcomes)
    characters = len({o.character for o in outcomes if o.accepted})
    print(f"vidiplug: series {engine.series!r}: {accepted} images of {characters} characters trained", file=sys.stderr)
    return 0 if accepted or outcomes else 2


def run_character_analyze(args: argparse.Namespace, media: Path) -> int:
    """``vidiplug analyze MEDIA --characters SERIES``: the animatedCharacters JSON of ``media``.

    The same analysis as the service's: ``analyze_media`` with the series' engine, against the
    series' trained characters and stored unknowns; with ``--store``, new unknown characters are
    stored there (named later, they are recognised from then on).
    """
    from vidiplug.cli.commands import analyze_params

    if args.format != "json":
        raise VidiplugError("--characters writes JSON only (--format json)")
    if not media.is_file():
        raise MediaError(str(media), "no such file")
    probe_media(media)  # fail on a bad file before loading anything
    engine = CharacterEngine(args.characters, args.cascade)
    settings = _settings(args)
    params = analyze_params(args, settings)
    if args.store is not None:
        with open_store(settings.store.resolved_url()) as store:
            result = analyze_media(media, engine, character_gallery(store, engine), params, store=store)
    else:
        result = analyze_media(media, engine, Gallery(engine.info), params)
    document = animated_characters_json(result, engine.series)
    if args.thumbnails is not None:
        args.thumbnails.mkdir(parents=True, exist_ok=True)
        for person in result.people:
            if person.thumbnail_jpeg:
                (args.thumbnails / f"{person.fingerprint}.jpg").write_bytes(person.thumbnail_jpeg)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0

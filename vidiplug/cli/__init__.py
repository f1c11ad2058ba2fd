"""Command-line interface: thin commands over the library (analyze, enroll, people, models).

Every command reads the same settings as the service (vidiplug/settings.py): the config file
given with --config, then VIDIPLUG_<SECTION>__<KEY> environment variables, then the command's
flags. The only module (with its commands) that prints and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from vidiplug import __version__
from vidiplug.engine.registry import AUTO, auto_rule, engine_names
from vidiplug.errors import VidiplugError
from vidiplug.logs import redact, setup_logging
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.settings import INTEGRATION_MODES

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 2, 2
log = logging.getLogger("vidiplug.cli")


CONFIG_HELP = ("configuration TOML (see config/vidiplug.toml); VIDIPLUG_<SECTION>__<KEY> environment variables "
               "override it, and this command's flags override both")
# No flag below has a default of its own: an unset flag (None) leaves the setting to the
# config file, the environment or the settings' own default (vidiplug/settings.py).
DEFAULTS_NOTE = "(default: the setting {key})"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def _unit_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 1")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    _add_config(parser)
    parser.add_argument("--engine", choices=engine_names(),
                        help=f"face engine; {AUTO}: {auto_rule()} " + DEFAULTS_NOTE.format(key="engine.name"))
    parser.add_argument("--models-root", type=Path,
                        help="folder holding insightface model packs " + DEFAULTS_NOTE.format(key="engine.models_root"))
    parser.add_argument("--pack", help="insightface model pack name " + DEFAULTS_NOTE.format(key="engine.pack"))
    parser.add_argument("--detect-size", type=_positive_int, metavar="PX",
                        help="long side frames are detected at; raise to find smaller faces "
                             + DEFAULTS_NOTE.format(key="engine.detect_size_px"))
    parser.add_argument("--detection-threshold", type=_unit_float, metavar="X",
                        help="detection score 0-1 a face needs to be analysed "
                             + DEFAULTS_NOTE.format(key="analysis.detection_threshold"))


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every command."""
    parser = argparse.ArgumentParser(prog="vidiplug", description="Face fingerprinting and recognition for VidiCore.")
    parser.add_argument("--version", action="version", version=f"vidiplug {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser("analyze", help="find, track and name the faces in a video or image",
                                  description="Find, track and name the faces in a video or image.")
    analyze.add_argument("media", metavar="MEDIA",
                         help="video or image file, or sample:astronaut / sample:astronaut.mp4 / "
                              "sample:scenes.mp4 (bundled, no network)")
    analyze.add_argument("--gallery", type=Path, help="folder with one sub-folder of photos per known person")
    analyze.add_argument("--store", nargs="?", const="", default=None, metavar="PATH_OR_URL",
                         help="identity store to match against and save new fingerprints to: a SQLite file or "
                              "a postgresql:// URL (no value: the setting store.url; without --store, none)")
    _add_engine_options(analyze)
    analyze.add_argument("--interval", type=_positive_float, metavar="S",
                         help="seconds between analysed frames "
                              + DEFAULTS_NOTE.format(key="analysis.keyframe_interval_s"))
    analyze.add_argument("--threshold", type=_unit_float, metavar="X",
                         help="recognition confidence 0-1 needed to name a face "
                              + DEFAULTS_NOTE.format(key="analysis.confidence_threshold"))
    analyze.add_argument("--min-face", type=_positive_int, metavar="PX",
                         help=f"ignore faces smaller than this many pixels (default: {AnalyzeParams.min_face_px})")
    analyze.add_argument("--max-span", type=float, metavar="S",
                         help="split appearances longer than this many seconds (0 = never) "
                              + DEFAULTS_NOTE.format(key="analysis.max_timespan_s"))
    analyze.add_argument("--no-unknowns", action="store_true",
                         help="do not fingerprint unrecognised faces (the setting analysis.import_unknowns = false)")
    analyze.add_argument("--workers", type=_positive_int,
                         help=f"detection threads (default: {AnalyzeParams.workers})")
    analyze.add_argument("--format", choices=["json", "xml", "azure-faces"], default="json",
                         help="output format (default: json); azure-faces: seed 003's face-detection JSON "
                              "(schemas/azure_faces.schema.json)")
    analyze.add_argument("--out", type=Path, help="write the document here instead of stdout")
    analyze.add_argument("--thumbnails", type=Path, metavar="DIR", help="write each person's face crop to DIR")
    analyze.add_argument("--max-faces", type=_positive_int, metavar="N",
                         help="azure-faces: most faces kept per frame, the most confident first; what is dropped "
                              "is counted on stderr (default: 64, as in seed 003)")
    analyze.add_argument("--faces", action="store_true",
                         help="JSON: add the analysis record, every track with its per-face records")
    analyze.add_argument("--emotion", choices=["none", "per-face", "aggregate"], default="none",
                         help="score each face's expression (fer's FER2013 model: no contempt class) and write "
                              "seed 003's PerFaceEmotion or AggregateEmotion JSON (default: none)")
    analyze.add_argument("--emotion-out", type=Path, metavar="FILE",
                         help="where the emotion JSON goes (default: OUT.emotion.json beside --out, "
                              "else MEDIA_NAME.emotion.json in the current folder)")
    analyze.add_argument("--aggregate-emotion-window-ms", type=float, default=500.0, metavar="MS",
                         help="AggregateEmotionWindowMs: media each aggregate result covers, 250-2000 (default: 500)")
    analyze.add_argument("--aggregate-emotion-interval-ms", type=float, default=500.0, metavar="MS",
                         help="AggregateEmotionIntervalMs: how often an aggregate result is given, 250-1000 "
                              "(default: 500)")
    analyze.add_argument("--model", action="append", metavar="NAME", dest="models",
                         help="also run this custom-insight model (installed or configured; see `vidiplug models`); "
                              "repeatable " + DEFAULTS_NOTE.format(key="models.run"))
    analyze.add_argument("--model-every", type=_positive_float, metavar="S",
                         help="models get one frame every S seconds " + DEFAULTS_NOTE.format(key="models.every_s"))
    analyze.add_argument("--model-skip", type=int, metavar="N",
                         help="skip the first N selected frames " + DEFAULTS_NOTE.format(key="models.skip"))
    analyze.add_argument("--model-page-size", type=int, metavar="N",
                         help="then send at most N frames, 0 = all " + DEFAULTS_NOTE.format(key="models.page_size"))
    analyze.add_argument("--model-frames-with", metavar="WHAT",
                         help="only frames with a prior insight: faces, or person:NAME "
                              + DEFAULTS_NOTE.format(key="models.only"))
    analyze.add_argument("--characters", metavar="SERIES",
                         help="find animated characters instead of faces, named by this series' model "
                              "(trained with `vidiplug characters train`); writes animatedCharacters JSON")
    analyze.add_argument("--cascade", type=Path, metavar="XML",
                         help="with --characters: path of nagadomi's lbpcascade_animeface.xml (MIT; required)")

    enroll = commands.add_parser("enroll", help="add photos of a named person to the identity store",
                                 description="Add photos of a named person to the identity store.")
    enroll.add_argument("name", help="the person's name")
    enroll.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="photos showing that person alone")
    enroll.add_argument("--store", metavar="PATH_OR_URL",
                        help="identity store: a SQLite file or a postgresql:// URL "
                             + DEFAULTS_NOTE.format(key="store.url"))
    _add_engine_options(enroll)

    people = commands.add_parser("people", help="list and manage identities in the store",
                                 description="List identities, or rename, suppress, restore or remove one.")
    _add_config(people)
    people.add_argument("--store", metavar="PATH_OR_URL",
                        help="identity store: a SQLite file or a postgresql:// URL "
                             + DEFAULTS_NOTE.format(key="store.url"))
    people.add_argument("--format", choices=["text", "json"], default="text")
    action = people.add_mutually_exclusive_group()
    action.add_argument("--rename", nargs=2, metavar=("ID", "NAME"),
                        help="name a fingerprint (merges into an existing person)")
    action.add_argument("--suppress", metavar="ID", help="never report this fingerprint again (it is still matched)")
    action.add_argument("--unsuppress", metavar="ID", help="report a suppressed fingerprint again")
    action.add_argument("--remove", metavar="ID", help="delete an identity and its vectors")

    characters = commands.add_parser("characters", help="train animated characters per series",
                                     description="Train the model of an animated series in the identity store.")
    character_commands = characters.add_subparsers(dest="characters_command", required=True, metavar="ACTION")
    train = character_commands.add_parser(
        "train", help="train a series from one sub-folder of images per character",
        description="Add each sub-folder of DIR as one character (the folder's name) to SERIES' model; "
                    "images may be face crops or frames (the largest cartoon face is used).")
    train.add_argument("series", metavar="SERIES", help="the series' name (its own model in the store)")
    train.add_argument("folder", type=Path, metavar="DIR", help="one sub-folder of images per character")
    _add_config(train)
    train.add_argument("--store", metavar="PATH_OR_URL",
                       help="identity store: a SQLite file or a postgresql:// URL "
                            + DEFAULTS_NOTE.format(key="store.url"))
    train.add_argument("--cascade", type=Path, metavar="XML",
                       help="path of nagadomi's lbpcascade_animeface.xml (MIT; required)")

    models = commands.add_parser("models", help="list the face engines and custom-insight models",
                                 description="List the face engines and installed face models (and how to install "
                                             "an insightface pack), then the custom-insight models: in-process ones "
                                             "(entry points in the group vidiplug.models) and HTTP ones "
                                             "(the setting models.http).")
    _add_config(models)
    models.add_argument("--models-root", type=Path,
                        help="folder holding insightface packs " + DEFAULTS_NOTE.format(key="engine.models_root"))

    config_help = CONFIG_HELP
    serve = commands.add_parser("serve", help="run as a VidiCore face analysis service",
                                description="Register with VidiCore as a cognitive service resource, then claim "
                                            "and run its analyze and train jobs until stopped (Ctrl-C, SIGTERM).")
    serve.add_argument("--config", type=Path, help=config_help)
    serve.add_argument("--instance", help="name of this process in job claims (default: host:resource name); "
                                          "every instance on one VidiCore needs its own")

    check = commands.add_parser("check", help="validate the service configuration and reach VidiCore and S3",
                                description="Validate the configuration, then reach VidiCore, the S3 callback "
                                            "location, the identity store and the face engine; one line per check.")
    check.add_argument("--config", type=Path, help=config_help)

    store = commands.add_parser("store", help="manage identity stores",
                                description="Manage identity stores (SQLite files, PostgreSQL databases).")
    store_commands = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    migrate = store_commands.add_parser(
        "migrate", help="copy a SQLite store into an empty PostgreSQL store",
        description="Copy every identity, vector (with its engine, model and version), item sighting, relabel "
                    "request and service state of SRC into the empty store DST; prints the rows copied per table.")
    migrate.add_argument("source", metavar="SRC", help="the SQLite store file")
    migrate.add_argument("target", metavar="DST", help="the store to fill, e.g. postgresql://user:password@host/db")

    demo = commands.add_parser("demo", help="run the whole VidiCore workflow on loopback, no network needed",
                               description="Start a mock VidiCore, a local S3 server and the service on loopback, "
                                           "then train, analyze, name and delete faces as an operator would, "
                                           "printing what the operator sees.")
    demo.add_argument("--media", metavar="FILE", default="sample:scenes.mp4",
                      help="video to analyse (default: sample:scenes.mp4: the public-domain NASA portrait, then "
                           "the face photo shipped in the insightface package)")
    demo.add_argument("--gallery", type=Path, metavar="DIR",
                      help="training photos, one sub-folder per person (default: the sample portrait as one person)")
    demo.add_argument("--workdir", type=Path, help="keep the demo's files here (default: a temporary folder)")
    demo.add_argument("--mode", choices=INTEGRATION_MODES, default="direct",
                      help="how jobs reach the service (vidicore.mode): direct (default: VidiCore's documented API "
                           "only; the mock runs without --bridge) or bridge (the VidiNet resource and its job "
                           "hand-off; the mock runs with --bridge)")
    _add_engine_options(demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vidiplug`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    # Redacting from the first line on: a secret in a URL or an error never reaches stderr.
    setup_logging(logging.WARNING - 10 * min(args.verbose, 2), fmt="%(levelname)s %(name)s: %(message)s")
    from vidiplug.cli import character_commands, commands, demo, service_commands, store_commands

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "analyze": commands.run_analyze,
        "characters": character_commands.run_characters,
        "enroll": commands.run_enroll,
        "people": commands.run_people,
        "models": commands.run_models,
        "serve": service_commands.run_serve,
        "check": service_commands.run_check,
        "demo": demo.run_demo,
        "store": store_commands.run_store,
    }
    try:
        return handlers[args.command](args)
    except VidiplugError as exc:
        # The settings (and so their secrets) may be what failed: the patterns still apply.
        print(redact(f"vidiplug: error: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("vidiplug: interrupted", file=sys.stderr)
        return 130

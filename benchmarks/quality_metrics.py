"""Recognition-quality metrics of the quality benchmark: pure functions on hand-checkable values.

Nothing here decodes, detects or reads files. A run under test (vidiplug or the baseline)
is turned into a ``Report``: the spans it reported each identity on screen (``Span``) and
its face tracks with the identity each was reported as (``Track``). The truth is one
``SecondTruth`` per whole second of media time (a ``*.truth.csv`` row). All times are in
the truth's time line (seconds of media time); a sampled face at ``t`` belongs to second
``floor(t)``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

EVERYONE = "all"  # truth token: a wide shot where anyone may be reported
EPS = 1e-6


@dataclass(frozen=True)
class SecondTruth:
    """Who is on screen in one second: ``required`` must be found, ``optional`` may be.

    ``everyone`` marks a wide shot ('all'): any name reported there is correct.
    """

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    everyone: bool = False

    @property
    def listed(self) -> frozenset[str]:
        """Everyone the second names (required or optional)."""
        return self.required | self.optional

    @property
    def solo(self) -> str | None:
        """The one person listed at this second, or None (nobody, several people, or a wide shot)."""
        if self.everyone or len(self.listed) != 1:
            return None
        return next(iter(self.listed))


Truth = Mapping[int, SecondTruth]


def parse_truth(lines: Iterable[str]) -> dict[int, SecondTruth]:
    """Rows ``second,required,optional`` (names split by ';', 'all' = wide shot; '#' lines are comments)."""
    truth: dict[int, SecondTruth] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [*line.split(","), "", ""][:3]
        if cells[0].strip().lower() == "second":
            continue
        names = [_names(cells[1]), _names(cells[2])]
        everyone = any(EVERYONE in group for group in names)
        truth[int(cells[0])] = SecondTruth(
            frozenset(names[0] - {EVERYONE}), frozenset(names[1] - {EVERYONE}), everyone
        )
    return truth


def _names(cell: str) -> set[str]:
    return {name.strip() for name in cell.split(";") if name.strip()}


def shift_truth(truth: Truth, offset_s: int) -> dict[int, SecondTruth]:
    """``truth`` moved ``offset_s`` whole seconds later (a clip placed inside a longer programme)."""
    return {second + offset_s: row for second, row in truth.items()}


def second_of(time_s: float) -> int:
    """The whole second a sampled time belongs to (float noise tolerated)."""
    return math.floor(time_s + EPS)


@dataclass(frozen=True)
class Span:
    """One reported on-screen presence: ``label`` is a name when ``named``, else an unknown's fingerprint."""

    label: str
    named: bool
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Track:
    """One face track and the identity it was reported as (``label``: name or fingerprint; None = not reported).

    ``times_s`` are its sampled faces; ``areas`` their box areas (same length).
    """

    id: str
    label: str | None
    times_s: tuple[float, ...]
    areas: tuple[float, ...]


@dataclass(frozen=True)
class Report:
    """What one run reported about one media file."""

    spans: tuple[Span, ...]
    tracks: tuple[Track, ...]


def reported_names(spans: Iterable[Span], second: int) -> set[str]:
    """Names of the named spans that overlap [second, second + 1)."""
    return {s.label for s in spans if s.named and s.start_s < second + 1 - EPS and s.end_s > second + EPS}


@dataclass(frozen=True)
class RecallPrecision:
    """Per-second recall and precision with ±1 s tolerance, as counts.

    ``hits`` of ``required`` (second, person) pairs were reported; ``correct`` of ``named``
    reported (second, name) pairs were allowed by the truth.
    """

    hits: int
    required: int
    correct: int
    named: int

    @property
    def recall(self) -> float | None:
        return rate(self.hits, self.required)

    @property
    def precision(self) -> float | None:
        return rate(self.correct, self.named)

    @property
    def wrong(self) -> int:
        """Reported (second, name) pairs the truth does not allow: wrong person-seconds."""
        return self.named - self.correct


def recall_precision(truth: Truth, spans: Sequence[Span], gallery: Collection[str]) -> RecallPrecision:
    """Recall over required people who are in ``gallery``; precision over every named report.

    Recall: (s, p) with p required at s is a hit when p is reported at s-1, s or s+1.
    Precision: (s, p) with p reported at s is correct when p is required or optional at
    s-1, s or s+1, or one of those seconds is a wide shot. Seconds without a truth row
    list nobody.
    """
    seconds = set(truth)
    for span in spans:
        if span.named:
            seconds.update(range(second_of(span.start_s), math.ceil(span.end_s - EPS)))
    reported = {s: reported_names(spans, s) for s in seconds | {s + d for s in seconds for d in (-1, 1)}}
    empty = SecondTruth()
    hits = required = correct = named = 0
    for second in sorted(seconds):
        near = [truth.get(second + d, empty) for d in (-1, 0, 1)]
        seen = set().union(*(reported[second + d] for d in (-1, 0, 1)))
        for person in truth.get(second, empty).required:
            if person in gallery:
                required += 1
                hits += person in seen
        allowed = set().union(*(row.listed for row in near))
        wide = any(row.everyone for row in near)
        for name in reported[second]:
            named += 1
            correct += wide or name in allowed
    return RecallPrecision(hits, required, correct, named)


def face_person(truth: Truth, time_s: float) -> str | None:
    """Who a face sampled at ``time_s`` is, where the whole-second truth says so unambiguously.

    Each truth row was annotated from one frame, at ``second + 0.5`` s. A face sampled at
    ``time_s`` lies between the annotated frames of rows ``floor(time_s - 0.5)`` and the next
    one; it is that person only when those rows (the ones present) list the same one person
    and nobody else. Where they differ a cut falls between the two annotated frames, and
    whole-second truth cannot say who the face is: the ±1 s tolerance that recall and
    precision allow, applied to single faces. None when the truth cannot say.
    """
    before = math.floor(time_s - 0.5 + EPS)
    people = {truth[second].solo for second in (before, before + 1) if second in truth}
    if len(people) != 1:
        return None
    return next(iter(people))


def identity_switches(truth: Truth, tracks: Sequence[Track]) -> int:
    """Changes of reported identity over each person's labelled faces, summed over people.

    Per person, in time order, the sampled instants at which ``face_person`` says they are
    alone on screen; at each, the label of the largest reported face sampled then (faces of
    unreported tracks do not count); a change counts between consecutive such labels.
    """
    largest: dict[str, dict[float, tuple[float, str]]] = defaultdict(dict)
    for track in tracks:
        if track.label is None:
            continue
        for time_s, area in zip(track.times_s, track.areas):
            person = face_person(truth, time_s)
            if person is None:
                continue
            seen = largest[person].get(time_s)
            if seen is None or area > seen[0]:
                largest[person][time_s] = (area, track.label)
    switches = 0
    for faces in largest.values():
        labels = [faces[time_s][1] for time_s in sorted(faces)]
        switches += sum(1 for a, b in pairwise(labels) if a != b)
    return switches


def labelled_faces(truth: Truth, track: Track) -> list[str]:
    """The truth person of each of ``track``'s sampled faces that ``face_person`` can tell."""
    people = (face_person(truth, time_s) for time_s in track.times_s)
    return [person for person in people if person is not None]


@dataclass(frozen=True)
class Purity:
    """Track purity: ``minimum`` over tracks with labelled faces, ``mean`` weighted by labelled faces.

    ``impure`` counts tracks holding more than one person; ``tracks`` those with labelled
    faces; ``faces`` the labelled faces. ``minimum``/``mean`` are None when no track has any.
    """

    minimum: float | None
    mean: float | None
    impure: int
    tracks: int
    faces: int


def track_purity(truth: Truth, tracks: Sequence[Track]) -> Purity:
    """Share of each track's labelled faces that belong to its majority person (see ``labelled_faces``)."""
    shares: list[float] = []
    majority_total = faces = impure = 0
    for track in tracks:
        people = labelled_faces(truth, track)
        if not people:
            continue
        majority = Counter(people).most_common(1)[0][1]
        shares.append(majority / len(people))
        majority_total += majority
        faces += len(people)
        impure += majority < len(people)
    return Purity(min(shares) if shares else None, rate(majority_total, faces), impure, len(shares), faces)


@dataclass(frozen=True)
class BCubed:
    """BCubed precision and recall of a grouping (Amigó et al. 2009) and the items it covered.

    ``items`` were scored; ``dropped`` labelled faces belonged to tracks never reported.
    """

    precision: float | None
    recall: float | None
    items: int
    dropped: int


def bcubed(truth: Truth, tracks: Sequence[Track]) -> BCubed:
    """BCubed over labelled faces: an item's cluster is its track's label, its class the truth person.

    Precision averages, over items, the share of the item's cluster that shares its
    class; recall the share of the item's class that shares its cluster. Faces of
    unreported tracks (label None) are left out and counted as dropped.
    """
    items: list[tuple[str, str]] = []
    dropped = 0
    for track in tracks:
        people = labelled_faces(truth, track)
        if track.label is None:
            dropped += len(people)
        else:
            items.extend((track.label, person) for person in people)
    if not items:
        return BCubed(None, None, 0, dropped)
    pair = Counter(items)
    cluster = Counter(c for c, _ in items)
    klass = Counter(p for _, p in items)
    precision = sum(pair[item] / cluster[item[0]] for item in items) / len(items)
    recall = sum(pair[item] / klass[item[1]] for item in items) / len(items)
    return BCubed(precision, recall, len(items), dropped)


def true_people(truth: Truth) -> set[str]:
    """Everyone the truth lists anywhere."""
    return set().union(*(row.listed for row in truth.values())) if truth else set()


@dataclass(frozen=True)
class PhotoScore:
    """Photo identification: ``top1_correct`` of ``top1_probes`` enrolled probes named right,
    ``false_accepts`` of ``stranger_probes`` probes of non-enrolled people named as someone."""

    top1_correct: int
    top1_probes: int
    false_accepts: int
    stranger_probes: int

    @property
    def top1(self) -> float | None:
        return rate(self.top1_correct, self.top1_probes)

    @property
    def false_accept_rate(self) -> float | None:
        return rate(self.false_accepts, self.stranger_probes)


def rate(count: float, total: float) -> float | None:
    """``count / total``, or None when ``total`` is 0."""
    return count / total if total else None


def realtime_factor(duration_s: float, wall_s: float) -> float | None:
    """Seconds of media per wall second."""
    return rate(duration_s, wall_s)

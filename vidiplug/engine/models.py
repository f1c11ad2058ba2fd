"""Model files on disk: where insightface packs live, which file is the detector or recogniser, how to install one.

Reads ONNX graphs' signatures with onnx (never runs them, never downloads); no os.environ, nothing above engine/.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from platformdirs import user_data_dir

from vidiplug.errors import EngineError, ModelNotFound

DEFAULT_PACK = "buffalo_l"
LICENCE_NOTE = "insightface packs are licensed for non-commercial research only"
DLIB_WEIGHTS = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")


class ModelRole(StrEnum):
    """What an .onnx file in a pack is, judged from its inputs and outputs as insightface's model_zoo does."""

    DETECTOR = "detector"  # SCRFD with 5-point landmarks (9 or 15 outputs)
    DETECTOR_NO_LANDMARKS = "detector without landmarks"  # SCRFD with 6 or 10 outputs: unusable for alignment
    RECOGNISER = "recogniser"  # ArcFace: one square input >= 112 px, one embedding output
    LANDMARKS = "landmarks"  # 192x192 dense landmark models (2d106det, 1k3d68)
    ATTRIBUTES = "attributes"  # 96x96 gender/age
    OTHER = "other"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ModelFile:
    """One .onnx file of a pack: its path, its role and its size in bytes."""

    path: Path
    role: ModelRole
    size_bytes: int

    def __str__(self) -> str:
        return f"{self.path.name} ({self.size_bytes / 1e6:.1f} MB)"


@dataclass(frozen=True)
class PackInfo:
    """A folder of .onnx files; usable by the insightface engine when it holds a detector and a recogniser."""

    name: str
    path: Path
    files: tuple[ModelFile, ...]

    @property
    def detector(self) -> Path | None:
        """The SCRFD detector (with landmarks), or None."""
        return self._only(ModelRole.DETECTOR)

    @property
    def recogniser(self) -> Path | None:
        """The ArcFace recogniser, or None."""
        return self._only(ModelRole.RECOGNISER)

    @property
    def usable(self) -> bool:
        return self.detector is not None and self.recogniser is not None

    def _only(self, role: ModelRole) -> Path | None:
        found = [f.path for f in self.files if f.role == role]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise EngineError(f"{self.path}: several {role.value}s ({names}); pass the one to use explicitly")
        return found[0] if found else None

    def __str__(self) -> str:
        needed = (ModelRole.DETECTOR, ModelRole.RECOGNISER)
        main = [f"{role.value} {f}" for role in needed for f in self.files if f.role == role]
        missing = [role.value for role in needed if role not in {f.role for f in self.files}]
        rest = [f"{f.path.name} ({f.role.value})" for f in self.files if f.role not in needed]
        text = f"{self.name} ({self.path}): " + (", ".join(main) or "no usable model")
        if missing:
            text += f" - NOT usable, no {' or '.join(missing)}"
        if rest:
            text += f"; also {', '.join(rest)}"
        return text


def default_models_root(root: Path | None = None) -> Path:
    """``root`` when given, else the user's data folder for vidiplug + "/models" (platformdirs)."""
    return root if root is not None else Path(user_data_dir("vidiplug")) / "models"


def identify_model(path: Path) -> ModelRole:
    """The role of one .onnx file, from its graph's input and output signature (weights are not run)."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except (DecodeError, OSError, ValueError, RuntimeError):
        return ModelRole.UNREADABLE
    weights = {init.name for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights]  # old exports list weights as inputs
    outputs = len(graph.output)
    if outputs in (9, 15):
        return ModelRole.DETECTOR
    if outputs in (6, 10):
        return ModelRole.DETECTOR_NO_LANDMARKS
    if not inputs or outputs >= 5:
        return ModelRole.OTHER
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[2] is None or dims[2] != dims[3]:
        return ModelRole.OTHER
    side = dims[2]
    if side == 192:
        return ModelRole.LANDMARKS
    if side == 96:
        return ModelRole.ATTRIBUTES
    if len(inputs) == 1 and outputs == 1 and side >= 112 and side % 16 == 0:
        return ModelRole.RECOGNISER
    return ModelRole.OTHER


def read_pack(folder: Path, name: str | None = None) -> PackInfo:
    """The .onnx files of ``folder`` with their roles (a zip that unpacked into ``folder/<name>/`` is followed)."""
    folder = _onnx_folder(folder)
    files = tuple(ModelFile(p, identify_model(p), p.stat().st_size) for p in sorted(folder.glob("*.onnx")))
    return PackInfo(name or folder.name, folder, files)


def list_installed_packs(root: Path) -> list[PackInfo]:
    """Every folder under ``root`` (and ``root`` itself) holding .onnx files, usable or not, by name."""
    if not root.is_dir():
        return []
    packs = [read_pack(root)] if any(root.glob("*.onnx")) else []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if any(_onnx_folder(folder).glob("*.onnx")):
            packs.append(read_pack(folder, folder.name))
    return packs


def find_pack(root: Path, name: str = DEFAULT_PACK) -> Path:
    """The folder of the usable pack ``name`` under ``root``, or ``root`` itself when it holds one.

    Raises ModelNotFound (one line: where it looked, how to install a pack, the licence
    note) when neither holds an SCRFD detector with landmarks and an ArcFace recogniser,
    EngineError when the pack holds two of either (which one is meant is not guessed).
    """
    if not name or Path(name).name != name or name in (".", ".."):
        raise ModelNotFound(f"{name!r} is not a model pack name (a folder name under {root})")
    how = (
        f"unzip {name}.zip into {root / name}, or point --models-root at a folder holding an SCRFD "
        f"detector and an ArcFace recogniser .onnx; {LICENCE_NOTE}"
    )
    folder = root / name
    if folder.is_dir():
        pack = read_pack(folder, name)
        if pack.usable:
            return pack.path
        if root.is_dir() and any(root.glob("*.onnx")) and read_pack(root).usable:
            return root
        found = ", ".join(f"{f.path.name}={f.role.value}" for f in pack.files) or "no .onnx files"
        raise ModelNotFound(f"insightface pack {name!r} at {pack.path} is incomplete (found {found}); {how}")
    if root.is_dir() and any(root.glob("*.onnx")) and read_pack(root).usable:
        return root
    raise ModelNotFound(f"no insightface model pack {name!r} in {folder} or {root}; {how}")


def install_instructions(root: Path) -> str:
    """Several lines for ``vidiplug models``: how to install an insightface pack under ``root``."""
    return "\n".join(
        [
            "The insightface engine needs a model pack; vidiplug never downloads one.",
            f"  1. Get a pack such as {DEFAULT_PACK}.zip (SCRFD detector + ArcFace recogniser) from the",
            "     insightface project's model zoo (github.com/deepinsight/insightface, release v0.7).",
            f"  2. Unzip it so the .onnx files lie in {root / DEFAULT_PACK}/",
            "     (a copy insightface already fetched usually sits in ~/.insightface/models/<pack>).",
            "  3. Or point --models-root (the engine.models_root setting) at a folder holding the packs, or holding an",
            "     SCRFD detector .onnx (9 outputs) and an ArcFace recogniser .onnx (112x112 input) itself;",
            "     choose a pack other than buffalo_l with --pack.",
            f"Licence: {LICENCE_NOTE}; make sure your use is allowed.",
            "Without a pack, --engine auto uses the dlib engine, whose weights ship with face_recognition_models.",
        ]
    )


def dlib_weight_folders() -> list[Path]:
    """The ``models`` folders of the installed face_recognition_models package ([] when it is not installed).

    The package is located, not imported: its ``__init__`` imports pkg_resources, which
    setuptools 81 and later no longer ship (and Python 3.12 virtualenvs have no setuptools).
    """
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(p) / "models" for p in spec.submodule_search_locations]


def dlib_weight(filename: str) -> Path | None:
    """The path of one .dat file of face_recognition_models, or None when it is not installed."""
    return next((folder / filename for folder in dlib_weight_folders() if (folder / filename).is_file()), None)


def dlib_models_available() -> bool:
    """True when the face_recognition_models package and the dlib engine's .dat weights are installed.

    dlib itself is not imported.
    """
    return all(dlib_weight(weight) is not None for weight in DLIB_WEIGHTS)


def _onnx_folder(folder: Path) -> Path:
    """``folder``, or its one sub-folder when the .onnx files sit one level down (antelopev2.zip does this)."""
    if folder.is_dir() and not any(folder.glob("*.onnx")):
        subs = [p for p in folder.iterdir() if p.is_dir() and any(p.glob("*.onnx"))]
        if len(subs) == 1:
            return subs[0]
    return folder

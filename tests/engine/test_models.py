from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vidiplug.engine.models import (
    ModelRole,
    default_models_root,
    dlib_models_available,
    find_pack,
    identify_model,
    install_instructions,
    list_installed_packs,
    read_pack,
)
from vidiplug.errors import EngineError, ModelNotFound

Builder = Callable[..., Path]


def test_pack_discovery_tells_detector_recogniser_and_extras_apart(pack_dir: Path) -> None:
    pack = read_pack(pack_dir)

    roles = {f.path.name: f.role for f in pack.files}
    assert roles == {
        "det_10g.onnx": ModelRole.DETECTOR,
        "w600k_r50.onnx": ModelRole.RECOGNISER,
        "2d106det.onnx": ModelRole.LANDMARKS,
        "genderage.onnx": ModelRole.ATTRIBUTES,
    }
    assert (pack.detector, pack.recogniser) == (pack_dir / "det_10g.onnx", pack_dir / "w600k_r50.onnx")
    assert pack.usable


def test_detector_without_landmark_outputs_is_not_a_usable_detector(tmp_path: Path, make_detector: Builder) -> None:
    model = make_detector(tmp_path / "scrfd_no_kps.onnx", kps=False)

    assert identify_model(model) == ModelRole.DETECTOR_NO_LANDMARKS


def test_a_file_that_is_not_onnx_is_unreadable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot onnx")

    assert identify_model(junk) == ModelRole.UNREADABLE


def test_two_recognisers_in_one_pack_are_an_error_not_a_guess(pack_dir: Path, make_recogniser: Builder) -> None:
    make_recogniser(pack_dir / "glintr100.onnx", seed=3)

    with pytest.raises(EngineError, match=r"several recognisers.*glintr100.onnx, w600k_r50.onnx"):
        _ = read_pack(pack_dir).recogniser  # the property raises


def test_listing_shows_each_pack_with_roles_sizes_and_what_is_missing(models_root: Path,
                                                                      make_detector: Builder) -> None:
    make_detector(models_root / "half_pack" / "det_500m.onnx")

    packs = list_installed_packs(models_root)

    assert [p.name for p in packs] == ["buffalo_l", "half_pack"]
    full, half = (str(p) for p in packs)
    assert "detector det_10g.onnx (" in full and "recogniser w600k_r50.onnx (" in full and " MB)" in full
    assert "NOT usable" not in full and "also 2d106det.onnx (landmarks), genderage.onnx (attributes)" in full
    assert "NOT usable, no recogniser" in half


def test_listing_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert list_installed_packs(tmp_path / "nowhere") == []


def test_find_pack_returns_the_named_pack_folder(models_root: Path, pack_dir: Path) -> None:
    assert find_pack(models_root, "buffalo_l") == pack_dir


def test_find_pack_follows_a_zip_that_unpacked_one_folder_deeper(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder
) -> None:
    nested = tmp_path / "antelopev2" / "antelopev2"
    make_detector(nested / "scrfd_10g_bnkps.onnx")
    make_recogniser(nested / "glintr100.onnx")

    assert find_pack(tmp_path, "antelopev2") == nested


def test_find_pack_accepts_a_root_that_holds_the_two_models_itself(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder
) -> None:
    make_detector(tmp_path / "det.onnx")
    make_recogniser(tmp_path / "rec.onnx")

    assert find_pack(tmp_path) == tmp_path


def test_missing_pack_says_where_it_looked_how_to_install_and_the_licence(tmp_path: Path) -> None:
    root = tmp_path / "models"

    with pytest.raises(ModelNotFound) as caught:
        find_pack(root, "buffalo_l")

    message = str(caught.value)
    assert str(root / "buffalo_l") in message and "unzip buffalo_l.zip" in message
    assert "non-commercial" in message and "--models-root" in message and "\n" not in message


def test_incomplete_pack_says_what_it_found(models_root: Path) -> None:
    (models_root / "buffalo_l" / "w600k_r50.onnx").unlink()

    with pytest.raises(ModelNotFound, match=r"incomplete.*det_10g.onnx=detector"):
        find_pack(models_root, "buffalo_l")


def test_pack_names_cannot_climb_out_of_the_root(models_root: Path) -> None:
    with pytest.raises(ModelNotFound, match="not a model pack name"):
        find_pack(models_root / "buffalo_l", "../buffalo_l")


def test_models_root_defaults_to_the_user_data_dir_unless_given(tmp_path: Path) -> None:
    assert default_models_root(tmp_path) == tmp_path
    assert default_models_root().parts[-2:] == ("vidiplug", "models")


def test_install_instructions_name_the_folder_and_the_licence(tmp_path: Path) -> None:
    text = install_instructions(tmp_path)

    assert str(tmp_path / "buffalo_l") in text and "non-commercial" in text and len(text.splitlines()) > 3


def test_dlib_weights_are_reported_installed_with_face_recognition_models() -> None:
    assert dlib_models_available() is True


def test_dlib_weights_are_found_without_importing_face_recognition_models() -> None:
    # Its __init__ needs pkg_resources, which current setuptools no longer ships.
    import subprocess
    import sys

    probe = ("import sys\n"
             "from vidiplug.engine.dlib import model_files\n"
             "files = model_files()\n"
             "assert 'face_recognition_models' not in sys.modules\n"
             "print(sorted(p.name for p in files.values() if p.is_file()))\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)

    assert run.returncode == 0, run.stderr
    assert "dlib_face_recognition_resnet_model_v1.dat" in run.stdout
    assert "shape_predictor_5_face_landmarks.dat" in run.stdout

"""A wheel carries the callback JavaScript: a non-editable install finds every script without the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from vidiplug.callbacks.scripts import ScriptName

REPO = Path(__file__).resolve().parents[2]


def test_an_installed_wheel_finds_every_callback_script(tmp_path: Path) -> None:
    wheels, target, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "source"
    # A clean copy of what a source distribution holds: no build/ folder left by an earlier build.
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("vidiplug", "mock_vidicore", "callback_scripts"):
        shutil.copytree(REPO / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("vidiplug-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"vidiplug/callback_scripts/{s.value}.js" for s in ScriptName} <= set(names)

    zipfile.ZipFile(wheel).extractall(target)  # what pip install puts in site-packages
    # -S: site-packages joins sys.path only through PYTHONPATH, after the wheel's files and
    # without its .pth files, so the editable install of this checkout cannot answer the import.
    libraries = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    probe = ("from vidiplug.callbacks.scripts import ScriptName, load_script, REPOSITORY_SCRIPTS\n"
             "assert not REPOSITORY_SCRIPTS.exists(), REPOSITORY_SCRIPTS\n"
             "print(sorted(load_script(s).version[:7] for s in ScriptName))\n")
    run = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False,
                         cwd=tmp_path,
                         env={"PYTHONPATH": os.pathsep.join([str(target), *libraries]), "PATH": "/usr/bin:/bin"})

    assert run.returncode == 0, run.stderr
    assert run.stdout.count("sha256:") == len(ScriptName)

"""One error tree: every exception class vidiplug defines lives in vidiplug.errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import vidiplug
from vidiplug import errors

# Running it starts the CLI; it defines nothing.
NOT_IMPORTED = {"vidiplug.__main__"}


def _modules() -> list[str]:
    found = [info.name for info in pkgutil.walk_packages(vidiplug.__path__, "vidiplug.")]
    return sorted(name for name in found if name not in NOT_IMPORTED)


def test_every_exception_vidiplug_defines_is_defined_in_errors() -> None:
    outside: list[str] = []

    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            defined_here = (inspect.isclass(value) and issubclass(value, BaseException)
                            and value.__module__.startswith("vidiplug"))
            if defined_here and (value.__module__ != errors.__name__
                                 or getattr(errors, value.__name__, None) is not value):
                outside.append(f"{name}.{attr} ({value.__module__}.{value.__qualname__})")

    assert outside == []


def test_the_walk_reaches_the_rooms_that_used_to_define_their_own() -> None:
    names = _modules()

    for room in ("vidiplug.callbacks.scripts", "vidiplug.render.timecode", "vidiplug.render.metadata_xml",
                 "vidiplug.cli.demo", "vidiplug.pipeline.enroll", "vidiplug.settings"):
        assert room in names


def test_every_error_is_a_vidiplug_error() -> None:
    for value in vars(errors).values():
        if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == errors.__name__:
            assert issubclass(value, errors.VidiplugError), value.__name__

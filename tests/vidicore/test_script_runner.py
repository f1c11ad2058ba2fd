"""ScriptRunner: direct mode runs callback scripts itself, each api call a REST call to VidiCore (here the mock)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vidiplug.callbacks.bundle import callback_document
from vidiplug.errors import ScriptFailed
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.script_runner import ScriptRunner, script_of


@dataclass(frozen=True)
class File:
    name: str
    data: bytes
    is_script: bool = True


def test_a_script_calls_the_api_and_returns_its_value(client: VidiCoreClient) -> None:
    created = client.create_collection("runner \u2028 <test>")
    source = ('var c = api.path("collection").path(DATA.id).get();'
              '({ name: c.name, missing: (function () { try { api.path("item").path("VX-999999").get(); '
              'return "no"; } catch (e) { return /404|notFound/.test(String(e.message)) ? "yes" : "no"; } })() })')
    document = callback_document("t", "t", {"id": created}, source)

    [outcome] = ScriptRunner(client).run_bundle([File("010-t.xml", document)], "run-1")

    assert outcome.records() == {"name": "runner \u2028 <test>", "missing": "yes"}


def test_scripts_run_in_name_order_and_data_files_are_skipped(client: VidiCoreClient) -> None:
    files = [File("020-b.xml", callback_document("b", "", {}, '"second"')), File("faces/x.jpg", b"\xff", False),
             File("010-a.xml", callback_document("a", "", {}, '"first"'))]

    outcomes = ScriptRunner(client).run_bundle(files, "run-2")

    assert [(o.name, o.value) for o in outcomes] == [("010-a.xml", '"first"'), ("020-b.xml", '"second"')]


def test_a_throwing_script_fails_naming_the_file_and_the_error(client: VidiCoreClient) -> None:
    files = [File("010-bad.xml", callback_document("bad", "", {}, 'throw new Error("no luck");'))]

    with pytest.raises(ScriptFailed, match=r"010-bad\.xml.*no luck"):
        ScriptRunner(client).run_bundle(files, "run-3")


def test_a_script_that_never_ends_is_stopped_at_its_time_limit(client: VidiCoreClient) -> None:
    with pytest.raises(ScriptFailed, match="still running"):
        ScriptRunner(client, time_limit_s=1.0).run("for (;;) {}", "run-4")


@pytest.mark.parametrize("document", [b"<not xml", b"<CallbackDocument/>",
                                      b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'])
def test_an_unreadable_document_is_refused(document: bytes) -> None:
    with pytest.raises(ScriptFailed, match=r"010-x\.xml"):
        script_of(document, "010-x.xml")

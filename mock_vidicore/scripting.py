"""`POST /API/javascript/test`: run a script in the callback sandbox and answer its value as JSON.

The script's `api` calls run as the requesting user; there is no `job`.
"""

from __future__ import annotations

from mock_vidicore.context import Context
from mock_vidicore.errors import invalid_input
from mock_vidicore.jsapi import Credentials, Sandbox, ScriptError
from mock_vidicore.web import Request, Response, Router

SCRIPT_TYPES = ("application/javascript", "text/javascript", "text/plain")


def register(router: Router, ctx: Context) -> None:
    """Add the JavaScript test route to ``router``."""

    def test(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in SCRIPT_TYPES:
            raise invalid_input("body", f"Content-Type must be one of {SCRIPT_TYPES}")
        try:
            source = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_input("body", "the script must be UTF-8") from None
        if ctx.dispatch is None:
            raise invalid_input("body", "the server is not ready")
        sandbox = Sandbox(ctx.dispatch, Credentials(request.user, ctx.settings.users[request.user]),
                          None, "javascript/test", ctx.settings.script_time_limit_s,
                          ctx.settings.script_memory_limit_bytes)
        try:
            value = sandbox.run(source)
        except ScriptError as exc:
            raise invalid_input("javascript", str(exc)) from None
        return Response(200, value.encode("utf-8"), "application/json; charset=utf-8")

    router.add("POST", "javascript/test", test)

"""The mock's error tree: every failure a handler raises becomes an ExceptionDocument.

Imports nothing from the rest of the package except the redaction helper.
"""

from __future__ import annotations

from mock_vidicore.redaction import redact


class ApiError(Exception):
    """An HTTP error answered with `<ExceptionDocument><{kind}>...</{kind}></ExceptionDocument>`.

    ``fields`` become the child elements of the kind element, in order. Every
    string is passed through :func:`redact` so no ``key:secret@`` reaches a client.
    """

    def __init__(self, status: int, kind: str, fields: dict[str, str]) -> None:
        clean = {key: redact(value) for key, value in fields.items()}
        super().__init__(f"{status} {kind}: {clean}")
        self.status = status
        self.kind = kind
        self.fields = clean


def not_found(entity_type: str, entity_id: str) -> ApiError:
    """404 `notFound` naming the entity type (Item, Job, ...) and the id asked for."""
    return ApiError(404, "notFound", {"type": entity_type, "id": entity_id})


def invalid_input(context: str, explanation: str, entity_id: str = "", value: str = "") -> ApiError:
    """400 `invalidInput`; ``context`` names what was wrong (metadata, uri, body, ...)."""
    fields = {"context": context}
    if entity_id:
        fields["id"] = entity_id
    if value:
        fields["value"] = value
    fields["explanation"] = explanation
    return ApiError(400, "invalidInput", fields)


def conflict(entity_type: str, entity_id: str, explanation: str = "") -> ApiError:
    """409 `conflict`, e.g. a job already claimed by another service instance."""
    fields = {"type": entity_type, "id": entity_id}
    if explanation:
        fields["explanation"] = explanation
    return ApiError(409, "conflict", fields)


def not_authorized() -> ApiError:
    """401 `notAuthorized` (element name unconfirmed; see README)."""
    return ApiError(401, "notAuthorized", {"explanation": "missing or invalid credentials"})


def too_large(limit_bytes: int) -> ApiError:
    """413 for a request body over the configured limit (`--max-body-bytes`)."""
    return ApiError(413, "invalidInput", {
        "context": "body", "explanation": f"request body exceeds {limit_bytes} bytes"})

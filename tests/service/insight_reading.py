"""Reading custom-insight groups back from an item's metadata (the service's "bring your own model" tests)."""

from __future__ import annotations

from typing import Any

from operator_api import Operator


def insight_groups(operator: Operator, item_id: str) -> dict[str, list[dict[str, Any]]]:
    """Group name -> its groups on ``item_id``, each as {"start", "end", field name: first value}."""
    found: dict[str, list[dict[str, Any]]] = {}
    for span in operator.metadata(item_id).get("timespan", []) or []:
        for group in span.get("group", []) or []:
            name = str(group.get("name", ""))
            fields = {f["name"]: f["value"][0]["value"] for f in group.get("field", []) or [] if f.get("value")}
            found.setdefault(name, []).append({"start": span["start"], "end": span["end"], **fields})
    return found

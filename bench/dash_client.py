"""Speak to a Dash app the way its browser does: page callbacks and component callbacks.

The payloads are built from the app's own callback map (``/_dash-dependencies``)
and the page layouts it returns, so they are what the browser would send.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

PAGES_OUTPUT = "_pages_content.children"


@dataclass(frozen=True)
class CallbackCall:
    """One POST /_dash-update-component: what it is and its JSON body."""

    label: str
    body: dict[str, Any]


def _outputs(output: str) -> list[dict[str, str]]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def payload(dep: dict[str, Any], values: dict[tuple[str, str], Any], changed: list[str]) -> dict[str, Any]:
    """The request body for callback ``dep`` with input/state ``values`` keyed by (id, property)."""
    outputs = _outputs(dep["output"])

    def filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i | {"value": values.get((i["id"], i["property"]))} for i in items]

    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": filled(dep["inputs"]),
        "changedPropIds": changed,
        "state": filled(dep.get("state", [])),
    }


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every component (``{"type", "namespace", "props"}``) in a layout tree."""
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and "type" in node:
            yield node
            for value in props.values():
                yield from walk(value)


def component_values(layout: Any) -> dict[tuple[str, str], Any]:
    """(id, property) -> value for every component with a string id."""
    found = {}
    for component in walk(layout):
        props = component["props"]
        if isinstance(props.get("id"), str):
            for name, value in props.items():
                found[(props["id"], name)] = value
    return found


class DashClient:
    """The callback map of one running app and the calls a browser makes on each page."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        deps = client.get("/_dash-dependencies").json()
        self.server_deps = [d for d in deps if not d.get("clientside_function")]
        self.pages_dep = next(d for d in self.server_deps if PAGES_OUTPUT in d["output"])

    def page_call(self, path: str, search: str) -> CallbackCall:
        values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): search}
        body = payload(self.pages_dep, values, ["_pages_location.pathname"])
        return CallbackCall(f"open page {path}{search}", body)

    def post(self, call: CallbackCall) -> httpx.Response:
        response = self.client.post("/_dash-update-component", json=call.body)
        response.raise_for_status()
        return response

    def page_callbacks(self, page_response: httpx.Response) -> list[CallbackCall]:
        """The component callbacks a user triggers on a page: each input changed once, values from the page."""
        content = page_response.json()["response"]["_pages_content"]["children"]
        values = component_values(content)
        calls = []
        for dep in self.server_deps:
            if dep is self.pages_dep or not all((i["id"], i["property"]) in values for i in dep["inputs"]):
                continue
            first = dep["inputs"][0]
            changed = f"{first['id']}.{first['property']}"
            calls.append(
                CallbackCall(
                    f"callback {_outputs(dep['output'])[0]['id']} (change {changed})",
                    payload(dep, values, [changed]),
                )
            )
        return calls

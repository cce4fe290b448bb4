"""``/docs``: the API reference rendered on the server from the OpenAPI schema, with no
script and nothing fetched from the internet (Swagger UI loads from a CDN: blank
offline). ``/openapi.json`` stays for tools."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from .pages import page

__all__ = ["endpoints", "register"]


def _kind(prop: dict[str, Any]) -> str:
    """A field's accepted forms, in words: ``integer 0..999999999 | string ^[0-9]{1,9}$``."""
    forms = prop.get("anyOf") or [prop]
    words = []
    for form in forms:
        kind = str(form.get("type", "object"))
        if "enum" in form:
            kind += " " + " | ".join(map(str, form["enum"]))
        elif "const" in form:
            kind += f" {form['const']}"
        if "minimum" in form or "maximum" in form:
            kind += f" {form.get('minimum', '')}..{form.get('maximum', '')}"
        if "pattern" in form:
            kind += f" {form['pattern']}"
        if "maxLength" in form:
            kind += f" (at most {form['maxLength']} characters)"
        words.append(kind)
    return " or ".join(w for w in words if w != "null") or "null"


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, str]]:
    ref = schema.get("$ref", "")
    body = components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
    required = set(body.get("required", ()))
    return [{"name": name, "kind": _kind(prop), "required": "yes" if name in required else "",
             "default": "" if "default" not in prop or prop["default"] is None
             else str(prop["default"]), "description": str(prop.get("description", ""))}
            for name, prop in body.get("properties", {}).items()]


def endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every documented operation: method, path, summary, description, its body's or
    query's fields, and the statuses it answers."""
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            fields = _fields(content.get("schema", {}), components)
            fields += [{"name": p["name"], "kind": _kind(p.get("schema", {})),
                        "required": "yes" if p.get("required") else "",
                        "default": str(p.get("schema", {}).get("default", "")),
                        "description": f"({p['in']}) {p.get('description', '')}".strip()}
                       for p in op.get("parameters", ())]
            found.append({"method": method.upper(), "path": path,
                          "tag": (op.get("tags") or ["other"])[0],
                          "summary": op.get("summary", ""),
                          "description": op.get("description", ""), "fields": fields,
                          "responses": [(code, r.get("description", ""))
                                        for code, r in sorted(op.get("responses", {}).items())]})
    return found


def register(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        schema = app.openapi()
        return page(request, "docs.html", title=schema["info"]["title"],
                    version=schema["info"]["version"], endpoints=endpoints(schema))

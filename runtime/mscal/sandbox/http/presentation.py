"""A stored document as Graph answers it: private fields dropped, an etag, start and end in the
time zone the caller preferred, and the body in the content type it preferred."""

from __future__ import annotations

from typing import Any

from mscal.sandbox.domain.documents import text_of_html, utc
from mscal.sandbox.domain.timezones import from_utc


def present(
    doc: dict[str, Any], time_zone: str | None = None, body_type: str | None = None
) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["@odata.etag"] = f'W/"{doc.get("changeKey", "")}"'
    if "_start" in doc:
        out["start"] = from_utc(utc(doc["_start"]), time_zone or "UTC")
        out["end"] = from_utc(utc(doc["_end"]), time_zone or "UTC")
        out = {k: out[k] for k in _event_order(out)}
    body = out.get("body")
    if body_type and isinstance(body, dict) and body.get("contentType") != body_type:
        content = str(body.get("content", ""))
        if body_type == "text":
            out["body"] = {"contentType": "text", "content": text_of_html(content)}
        else:
            out["body"] = {
                "contentType": "html",
                "content": f"<html><body>{content}</body></html>",
            }
    return out


def _event_order(out: dict[str, Any]) -> list[str]:
    # Graph lists start and end after body; keep that order so responses read like Graph's.
    keys = [k for k in out if k not in {"start", "end"}]
    position = keys.index("body") + 1 if "body" in keys else len(keys)
    return [*keys[:position], "start", "end", *keys[position:]]

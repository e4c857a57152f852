"""Answers in Graph's shapes: a page of a collection (OData options, `@odata.nextLink`), an
entity, a created entity with its `Location`, and the empty answers of actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse, Response

from mscal.sandbox.http import odata
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.presentation import present

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


def metadata(call: Call, fragment: str) -> str:
    return f"{call.base}/$metadata#{fragment}"


def selected(call: Call) -> list[str]:
    """The properties `$select` names (none: all)."""
    return [f.strip() for f in call.query.get("$select", "").split(",") if f.strip()]


def _context(call: Call, name: str, fields: list[str]) -> str:
    # Graph names the selection in the context: users('…')/events(subject,start).
    selection = f"({','.join(fields)})" if fields else ""
    return f"{call.owner.path}/{name}{selection}"


def presented(call: Call, doc: dict[str, Any]) -> dict[str, Any]:
    return present(doc, call.time_zone, call.body_type)


def collection(call: Call, name: str, docs: list[dict[str, Any]], *, raw: bool = False) -> Response:
    """A page of a collection; `raw` items are already in their answer's shape."""
    skip = odata.int_option(call.query.get("$skip"), "$skip") or 0
    top = odata.int_option(call.query.get("$top"), "$top", minimum=1)
    size = min(top or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not any(call.query.get(option) for option in ("$filter", "$search", "$orderby")):
        # Nothing to filter or order: present only the page (a page of a big calendar
        # would otherwise cost the whole calendar).
        total = len(docs)
        window = docs[skip : skip + size]
        page = list(window) if raw else [presented(call, d) for d in window]
    else:
        items = list(docs) if raw else [presented(call, d) for d in docs]
        # Filter and order on UTC values, as Graph does, whatever time zone the answer uses.
        utc_items = [present(d) for d in docs] if call.time_zone and not raw else items
        pairs = list(zip(utc_items, items, strict=True))
        if call.query.get("$filter"):
            predicate = odata.parse_filter(call.query["$filter"])
            pairs = [p for p in pairs if predicate(p[0])]
        if call.query.get("$search"):
            pairs = [p for p in pairs if odata.search_matches(p[0], call.query["$search"])]
        if call.query.get("$orderby"):
            order = odata.order_by([p[0] for p in pairs], call.query["$orderby"])
            index = {id(p[0]): p for p in pairs}
            pairs = [index[id(u)] for u in order]
        total = len(pairs)
        page = [p[1] for p in pairs[skip : skip + size]]
    fields = selected(call)
    body: dict[str, Any] = {"@odata.context": metadata(call, _context(call, name, fields))}
    if odata.bool_option(call.query.get("$count"), "$count"):
        body["@odata.count"] = total
    body["value"] = [odata.select(item, fields) for item in page]
    if skip + size < total:
        query = [(k, v) for k, v in parse_qsl(call.request.url.query) if k != "$skip"]
        query.append(("$skip", str(skip + size)))
        body["@odata.nextLink"] = f"{call.base}{call.path()}?{urlencode(query)}"
    return JSONResponse(body, media_type="application/json")


def entity(call: Call, name: str, doc: dict[str, Any], status: int = 200) -> Response:
    fields = selected(call)
    body = {
        "@odata.context": metadata(call, f"{_context(call, name, fields)}/$entity"),
        **odata.select(presented(call, doc), fields),
    }
    return JSONResponse(body, status_code=status)


def created(call: Call, name: str, doc: dict[str, Any]) -> Response:
    response = entity(call, name, doc, 201)
    response.headers["Location"] = f"{call.base}/{call.owner.path}/{name}('{doc['id']}')"
    return response


def empty(status: int) -> Response:
    """An action's answer: 202 Accepted, 204 No Content, or a bare 200."""
    return Response(status_code=status)

"""Loading the connector spec: connector.yaml, its operation files and schemas, once per path.

Everything here is data; nothing is compiled or validated per call. connector.yaml and each
operation file are checked against the shipped meta-schemas once per content (the check is kept
in the spec cache with the parse), and `defaults` is read into one typed object. Schemas from all
files are registered under one base URI, so a `$ref: event.yaml` written anywhere resolves the
same way.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jsonschema_rs

from mscal.call.compiled_schema import formats_in
from mscal.errors import SpecError
from mscal.spec.cache import ParsedFiles
from mscal.spec.defaults import Defaults, parse_defaults
from mscal.spec.meta_schemas import MetaSchemas, meta_schemas
from mscal.spec.triggers import TriggerDefinition, read_trigger_files

if TYPE_CHECKING:
    from referencing import Registry

# Where the spec's schemas live in the `$ref` namespace. `.invalid` never resolves on a network.
SCHEMA_BASE = "https://spec.mscal.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class AuthField:
    key: str
    title: str
    help: str
    schema: dict[str, Any]
    required: bool = False
    secret: bool = False
    advanced: bool = False

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True)
class Operation:
    """One operation as declared: an endpoint template with its inputs and output."""

    name: str
    title: str
    description: str
    group: str
    source: Path
    request: dict[str, Any]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    input_names: tuple[str, ...]
    paginated: bool
    pagination: dict[str, Any]
    upload: dict[str, Any] | None
    permissions: dict[str, list[str]] | None
    idempotent: bool
    limits: dict[str, Any]
    result: str | None
    examples: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Spec:
    root: Path
    manifest: dict[str, Any]
    auth_fields: tuple[AuthField, ...]
    operations: Mapping[str, Operation]
    # Every schema document by its URI in the `$ref` namespace (SCHEMA_BASE + file name).
    resources: tuple[tuple[str, Any], ...]
    fragments: Mapping[str, str]
    defaults: Defaults
    schema_files: Mapping[str, Path] = field(default_factory=dict)
    triggers: Mapping[str, TriggerDefinition] = field(default_factory=dict)
    # The spec cache this spec was read through; it also keeps what is derived from the spec
    # (templates' plain forms), saved when something new was derived.
    cache: ParsedFiles | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def documents(self) -> dict[str, Any]:
        """The schema documents by URI, for `inline_refs`."""
        return dict(self.resources)

    @functools.cached_property
    def schema_registry(self) -> jsonschema_rs.Registry:
        """The schemas for jsonschema-rs's compiled validators (a `$ref` left by a cycle)."""

        # jsonschema-rs follows every `$ref` when the registry is built; a document no file
        # provides (a typo in a spec being linted) stands empty here: `inline_refs` has already
        # refused each operation that uses it, so no validator is ever built over it.
        def retrieve(_uri: str) -> dict[str, Any]:
            return {}

        return jsonschema_rs.Registry(list(self.resources), retriever=retrieve)

    @functools.cached_property
    def schema_formats(self) -> frozenset[str]:
        """Every `format` the schema documents name."""
        return frozenset(name for _, contents in self.resources for name in formats_in(contents))

    @functools.cached_property
    def registry(self) -> Registry[Any]:
        """The schemas for jsonschema (`referencing`), which explains a refusal and lints."""
        # Imported here: a call whose inputs are valid never needs jsonschema or referencing
        # (about 80 ms of imports on a cold start).
        from referencing import Registry  # noqa: PLC0415
        from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

        return Registry().with_resources(
            (uri, DRAFT202012.create_resource(contents)) for uri, contents in self.resources
        )

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def base_url(self) -> str:
        return str(self.manifest["base_url"])

    @property
    def base_path(self) -> str:
        """The path of the base URL, where the API version is (Graph: `/v1.0`)."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def oauth2(self) -> dict[str, Any]:
        return dict(self.manifest["authentication"]["oauth2"])

    def operation(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError:
            # Imported here: only a mistyped name needs the fuzzy matcher.
            from mscal.spelling import did_you_mean  # noqa: PLC0415

            raise SpecError(
                f"unknown operation {name!r}{did_you_mean(name, self.operations)} "
                "(mscal operations lists them all)"
            ) from None

    def trigger(self, name: str) -> TriggerDefinition:
        try:
            return self.triggers[name]
        except KeyError:
            known = ", ".join(sorted(self.triggers)) or "none"
            raise SpecError(f"unknown trigger {name!r}; known triggers: {known}") from None


def default_spec_root() -> Path:
    """The shipped spec: inside the installed package, or at the repository root in a checkout."""
    packaged = Path(__file__).parents[1] / "shipped_spec"
    if (packaged / "connector.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[3]


def shipped_meta_schemas() -> MetaSchemas:
    """The meta-schemas shipped with the runtime: they describe every spec it can load."""
    return meta_schemas(default_spec_root() / "schemas")


def read_yaml(path: Path) -> Any:
    # Imported here: a CLI call whose spec comes from the cache never needs a YAML parser.
    import yaml  # noqa: PLC0415

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open("rb") as handle:
            return yaml.load(handle, Loader=loader)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML: {exc}") from None


def load_spec(
    path: str | Path | None = None, *, fresh: bool = False, lenient: bool = False
) -> Spec:
    """Load a connector from its directory or its connector.yaml (default: the shipped one).

    Loaded specs are cached per directory; `fresh` reads the files again (the linter does).
    A file that does not match its meta-schema is a SpecError naming the file, the key and the
    rule; `lenient` (the linter's load, which reports those itself) skips that check.
    """
    root = Path(path) if path is not None else default_spec_root()
    if root.is_file():
        root = root.parent
    root = root.resolve()
    if lenient:
        return _read_spec(root, lenient=True)
    return _read_spec(root) if fresh else _cached_spec(root)


@functools.lru_cache(maxsize=8)
def _cached_spec(root: Path) -> Spec:
    return _read_spec(root)


def _read_spec(root: Path, *, lenient: bool = False) -> Spec:
    """Read a spec. `lenient` (for the linter, which reports these itself) keeps the first of
    two operations with one name and ignores unknown traits instead of refusing the spec."""
    files = ParsedFiles(root)
    read = functools.partial(files.get, parse=read_yaml)
    meta = None if lenient else shipped_meta_schemas()
    manifest_path = root / "connector.yaml"
    manifest = read(manifest_path, check=meta.connector if meta else None)
    if not isinstance(manifest, dict):
        raise SpecError(f"{manifest_path}: expected a mapping at the top level")
    for key in ("name", "base_url", "authentication", "operations"):
        if key not in manifest:
            raise SpecError(f"{manifest_path}: missing required key {key!r}")
    defaults = parse_defaults(manifest.get("defaults"), manifest_path)

    resources: list[tuple[str, Any]] = []
    schema_files: dict[str, Path] = {}
    schema_dir = root / "schemas"
    if schema_dir.is_dir():
        for schema_path in sorted(schema_dir.glob("*.yaml")):
            schema_files[schema_path.name] = schema_path
            resources.append((SCHEMA_BASE + schema_path.name, read(schema_path)))

    traits = manifest.get("traits") or {}
    operations: dict[str, Operation] = {}
    for relative in manifest["operations"]:
        op_path = root / relative
        document = read(op_path, check=meta.operations if meta else None)
        if not isinstance(document, dict) or not isinstance(document.get("operations"), list):
            raise SpecError(f"{op_path}: expected a mapping with an 'operations' list")
        file_uri = SCHEMA_BASE + "operations." + op_path.name
        defs: dict[str, Any] = dict(document.get("$defs") or {})
        for raw in document["operations"]:
            operation = _build_operation(
                raw,
                document,
                op_path,
                file_uri,
                {**traits, **{t: {} for t in raw.get("traits", []) if lenient and t not in traits}},
                defs,
                manifest["defaults"]["pagination"],
            )
            if operation.name in operations:
                if lenient:
                    continue
                raise SpecError(f"{op_path}: operation {operation.name!r} is declared twice")
            operations[operation.name] = operation
        resources.append((file_uri, {"$schema": DRAFT, "$defs": defs}))

    triggers, trigger_resources = read_trigger_files(
        root, manifest, read, meta.triggers if meta else None, SCHEMA_BASE, operations
    )
    resources += list(trigger_resources)

    fragments = {str(k): str(v) for k, v in (manifest.get("templates") or {}).items()}
    files.save()
    return Spec(
        root=root,
        manifest=manifest,
        auth_fields=tuple(_auth_field(raw) for raw in manifest["authentication"]["fields"]),
        operations=operations,
        resources=tuple(resources),
        fragments=fragments,
        defaults=defaults,
        schema_files=schema_files,
        triggers=triggers,
        cache=files,
    )


def _auth_field(raw: dict[str, Any]) -> AuthField:
    schema = {
        k: v
        for k, v in raw.items()
        if k not in {"key", "title", "help", "required", "secret", "advanced"}
    }
    schema.setdefault("title", raw.get("title", raw["key"]))
    schema.setdefault("description", raw.get("help", ""))
    return AuthField(
        key=raw["key"],
        title=raw.get("title", raw["key"]),
        help=raw.get("help", ""),
        schema=schema,
        required=bool(raw.get("required", False)),
        secret=bool(raw.get("secret", False)),
        advanced=bool(raw.get("advanced", False)),
    )


def _build_operation(
    raw: dict[str, Any],
    document: dict[str, Any],
    path: Path,
    file_uri: str,
    traits: dict[str, Any],
    defs: dict[str, Any],
    defaults_pagination: dict[str, Any],
) -> Operation:
    name = raw.get("name")
    if not isinstance(name, str):
        raise SpecError(f"{path}: an operation has no name")
    try:
        applied = [traits[t] for t in raw.get("traits", [])]
    except KeyError as exc:
        raise SpecError(f"{path}: operation {name!r} uses unknown trait {exc.args[0]!r}") from None

    properties: dict[str, Any] = {}
    request: dict[str, Any] = {"query": {}, "headers": {}}
    exclusive: list[list[str]] = []
    dependent: dict[str, list[str]] = dict(raw.get("dependent_required") or {})
    paginated = False
    for trait in applied:
        properties.update(trait.get("inputs") or {})
        _merge_request(request, trait)
        exclusive.extend(trait.get("exclusive") or [])
        dependent.update(trait.get("dependent_required") or {})
        paginated = paginated or bool(trait.get("paging"))
    properties.update(raw.get("inputs") or {})
    _merge_request(request, raw.get("request") or {})
    request.update({k: v for k, v in (raw.get("request") or {}).items() if k not in request})

    input_schema: dict[str, Any] = {
        "type": "object",
        "title": raw.get("title", name),
        "properties": properties,
        "additionalProperties": False,
    }
    if raw.get("required"):
        input_schema["required"] = list(raw["required"])
    pairs = [pair for pair in exclusive if all(key in properties for key in pair)]
    rules = [{"not": {"required": pair}} for pair in pairs] + list(raw.get("input_rules") or [])
    if rules:
        input_schema["allOf"] = rules
    if dependent:
        input_schema["dependentRequired"] = dependent

    # Operation schemas live as $defs of their file's resource, so that relative refs inside
    # them resolve exactly as refs elsewhere in that file do.
    defs[f"{name}.input"] = input_schema
    defs[f"{name}.output"] = raw.get("output") or {}
    return Operation(
        name=name,
        title=raw.get("title", name),
        description=raw.get("description", ""),
        group=raw.get("group", document.get("group", "Other")),
        source=path,
        request=request,
        input_schema={"$ref": f"{file_uri}#/$defs/{name}.input"},
        output_schema={"$ref": f"{file_uri}#/$defs/{name}.output"},
        input_names=tuple(properties),
        paginated=paginated,
        pagination={**defaults_pagination, **(raw.get("pagination") or {})} if paginated else {},
        upload=raw.get("upload"),
        permissions=raw.get("permissions"),
        idempotent=bool(raw.get("idempotent", False)),
        limits=dict(raw.get("limits") or {}),
        result=raw.get("result"),
        examples=tuple(raw.get("examples") or ()),
    )


def _merge_request(into: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge query and header parts; a header given as a list gains the new parts."""
    query = source.get("query")
    if isinstance(query, dict) and isinstance(into["query"], dict):
        into["query"].update(query)
    elif query is not None:
        into["query"] = query
    headers = source.get("headers")
    if isinstance(headers, dict) and isinstance(into["headers"], dict):
        for header, value in headers.items():
            existing = into["headers"].get(header)
            if isinstance(existing, list) and isinstance(value, list):
                into["headers"][header] = existing + [v for v in value if v not in existing]
            else:
                into["headers"][header] = value
    elif headers is not None:
        into["headers"] = headers

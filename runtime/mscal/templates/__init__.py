"""Jinja2 templates of the spec: rendering (sandboxed, strict) and the one analysis of what
a template reads, shared by the runtime and the linter."""

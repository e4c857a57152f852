"""What rendering a template can fail with, whichever renders it (the plain form or Jinja)."""

from __future__ import annotations


class TemplateRenderError(Exception):
    """A template could not render: a name it reads is undefined, a path value is missing, or
    Jinja failed (its error is carried in the message)."""


class TemplateOutputError(TemplateRenderError):
    """A template rendered more text than the spec's limit (limits.template_chars)."""

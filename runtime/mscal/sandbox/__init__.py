"""A local Microsoft Graph calendar service and identity platform (`mscal sandbox`)."""

from mscal.sandbox.service import Sandbox, create_sandbox

__all__ = ["Sandbox", "create_sandbox"]

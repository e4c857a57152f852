"""`mscal studio`: the connector's properties panel as a local web page, for authors to see and
try their spec the way builders will render it (see docs/studio.md)."""

"""The Graph calendar domain, free of HTTP: one module per aggregate."""

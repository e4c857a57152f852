"""`mscal`, one module per command group; the usage error every command shares is in
`usage.py`."""

"""A local Microsoft Graph calendar service and identity platform (`mscal sandbox`).

`service` assembles it (`create_sandbox`), `server` serves it; `http/` is the HTTP surface over
the `domain/` (mailboxes, calendars, events, meetings) and the `identity/` platform.
"""

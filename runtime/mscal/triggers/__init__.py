"""Triggers: delta rounds that emit each change once, a subscription kept alive, the webhook."""

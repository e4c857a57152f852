"""Change notifications: the validation handshake, deliveries with retries, lifecycle events."""

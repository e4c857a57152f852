"""The I/O around a call: sync and async drivers, sessions, mailbox slots, the response
size cap, and the bulk runner."""

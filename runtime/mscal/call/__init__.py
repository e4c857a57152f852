"""One call, with no I/O: input validation, the request built and checked against the
egress rules, and the sans-IO flow (steps, exchange, paging, retry, error mapping, batching)."""

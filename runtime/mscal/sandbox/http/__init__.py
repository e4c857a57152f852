"""The HTTP surface: a route table over the domain, identity, batch and admin endpoints."""

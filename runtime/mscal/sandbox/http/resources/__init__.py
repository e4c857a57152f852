"""The Graph resource handlers, grouped by aggregate, and the table that routes to them."""

"""The spec: loading and checking the YAML files, their cache between processes, `$ref`
resolution, the typed defaults, and the resolved description a builder renders."""

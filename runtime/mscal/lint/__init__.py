"""The spec linter: one module per pass, findings at file, line and column."""

"""Command-line entry points: `query`, `shell`, `sandbox serve`, `docs build`, `export`."""

"""Long-running loops: ingest, notifier."""

"""The demo district: realistic synthetic data published through the real ingest paths."""

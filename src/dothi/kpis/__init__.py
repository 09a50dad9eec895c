"""Indicators and views over every domain for the dashboard: read-only, through services."""

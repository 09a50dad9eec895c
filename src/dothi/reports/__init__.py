"""Citizen field reports (phản ánh hiện trường): categories, routing, workflow, Open311 data."""

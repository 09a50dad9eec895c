"""Citizen field reports (phản ánh hiện trường): categories, routing, workflow, ratings."""

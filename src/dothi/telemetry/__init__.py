"""Telemetry: context entities in the NGSI-LD shape, their observations and latest state."""

"""Cameras: the registry, their health, snapshots and coverage of the main roads."""

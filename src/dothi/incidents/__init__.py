"""Incidents, standard operating procedures, directives and the shift log: how the IOC acts."""

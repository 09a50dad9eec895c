"""dothi: an open-source smart-city Intelligent Operations Center."""

__version__ = "0.1.0"

"""Scripts run by third-party NGSI-LD clients, each in its own virtual environment."""

"""Data sources and transports: MQTT."""

"""Standard APIs spoken by dothi: NGSI-LD, Open311 GeoReport v2."""

"""Alarms: rules over telemetry (thresholds, rates, silence, stuck values, composites), VN_AQI."""

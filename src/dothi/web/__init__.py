"""The only package that knows HTTP: the app factory, APIs, standards and pages."""

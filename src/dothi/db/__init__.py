"""Storage: the declarative base, column types, the engine and its single writer, migrations."""

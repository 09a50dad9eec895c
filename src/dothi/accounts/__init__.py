"""Accounts: users, organisational units, roles and scopes, API keys, the audit log."""

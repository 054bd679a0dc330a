"""Shared plumbing: settings, database, security, internationalisation."""

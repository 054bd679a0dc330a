"""Imports of the creator centres' exports and the figures a person reads off the app."""

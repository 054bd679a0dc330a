"""Approval rules shared by every approval path: posts and their variants, inbox replies,
external review links, and changes of who approves.

``rules`` holds the pure rules (no database: tests try them over every role, action and
state); ``record`` writes each decision to the audit log. Publishing and the inbox call both.
"""

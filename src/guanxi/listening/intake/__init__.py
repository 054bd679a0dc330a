"""Intake: where posts come from (crawler files, keyword searches through connected accounts),
imports and pulls, and storing what they bring."""

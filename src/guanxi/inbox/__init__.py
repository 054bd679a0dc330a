"""Engage: one inbox for comments, mentions and messages, moderation, replies, relationship book.

One sub-package per concept, each with the same file names (``models.py``, ``service.py``,
``views.py`` where they apply): ``items`` (the list and threads), ``intake`` (reading the
channels, pushed messages), ``triage`` (moderation, assignment, priority, response targets),
``replies``, ``people`` (the relationship book) and ``debates``. The capability's schedule,
commands and front-page card are here at the top, with ``bulk`` (a page of rows written in
one statement), which ingest, moderation, search and the relationship book share.
"""

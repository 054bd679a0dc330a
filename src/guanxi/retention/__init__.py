"""Retention: how long each workspace keeps each kind of raw analytics row, and the
deletions that keep to it (the daily figures made from the rows are kept)."""

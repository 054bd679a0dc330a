"""Mentions: the posts and their authors, what the NLP pipeline found in them, the official
accounts the workspace tracks, and the mentions' pages."""

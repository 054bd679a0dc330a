"""Engage: one inbox for comments, mentions and messages, moderation, replies, relationship book."""

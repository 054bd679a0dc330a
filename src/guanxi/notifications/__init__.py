"""Notifications: what members should know, in the app and by e-mail, for every capability."""

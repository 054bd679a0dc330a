"""The inbox list and its items: filters, search, statuses, assignment, tags and notes."""

"""Publishing: posts and their per-platform variants, checks, approvals, calendar, engine."""

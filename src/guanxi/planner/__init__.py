"""The channel planner: which platforms to use for which audience, and why."""

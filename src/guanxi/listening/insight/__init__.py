"""Insight: the dashboard's panels, its drill-down list and its exports."""

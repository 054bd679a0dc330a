"""Alerts: rules that watch a topic for a spike, detection, and delivery."""

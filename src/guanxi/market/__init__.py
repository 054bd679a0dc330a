"""Market intelligence: app-store chart ranks, campaigns and their measured effect."""

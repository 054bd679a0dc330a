"""Listen: imported and pulled posts (mentions), enrichment, topic queries, dashboards, alerts."""

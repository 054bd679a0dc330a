"""Topics: Boolean topic queries, matching mentions against them, and the daily rollup."""

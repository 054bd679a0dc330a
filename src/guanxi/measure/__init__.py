"""Analytics: the figures of the brand's own posts and accounts, kept as time series."""

"""Estimates of what a campaign changed: the difference-in-differences estimator with placebo
intervals, pure math on daily series by unit (a country's chart rank, a province's orders),
shared by the capabilities that measure a campaign's effect."""

"""guanxi: a self-hosted command center for brands on Chinese social media."""

__version__ = "0.1.0"

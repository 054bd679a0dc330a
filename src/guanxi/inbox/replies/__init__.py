"""Our answers to items: through the platform or by hand, approval, saved replies."""

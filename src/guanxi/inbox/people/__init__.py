"""The relationship book: people across platforms, their influence, notes and tags."""

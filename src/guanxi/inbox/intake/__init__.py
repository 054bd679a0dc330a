"""Getting items in: reading each channel through its connector, and messages platforms push."""

"""Column mappings of imported files: which column of a file holds which field, remembered
per workspace, purpose and header row, so the next file of the same shape imports at once."""

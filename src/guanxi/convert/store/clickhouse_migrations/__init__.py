"""Convert's ClickHouse schema, one ``NNNN_what.sql`` file per change (docs/scale.md)."""

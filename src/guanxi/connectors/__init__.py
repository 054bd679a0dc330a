"""Platform connectors: one typed Protocol, built-ins and third-party plugins via entry points."""

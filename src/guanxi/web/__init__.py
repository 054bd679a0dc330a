"""The request toolkit: what every page and API route is built with (dependencies, forms,
rendering, limits, middlewares, templates, static files); the shell wires the capabilities."""

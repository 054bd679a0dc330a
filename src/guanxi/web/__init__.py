"""The web application: FastAPI wiring of the capabilities' routers, templates, static files."""

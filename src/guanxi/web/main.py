"""The ASGI application for uvicorn: ``guanxi.web.main:app``."""

from guanxi.web.app import create_app

app = create_app()

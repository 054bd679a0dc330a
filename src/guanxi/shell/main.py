"""The ASGI application for uvicorn: ``guanxi.shell.main:app``."""

from guanxi.shell.app import create_app

app = create_app()

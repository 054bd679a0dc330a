"""``python -m guanxi`` runs the command line."""

from guanxi.shell.cli import app

app()

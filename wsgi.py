"""Entry point for gunicorn and the flask CLI: ``flask --app wsgi …``."""
from heating import create_app

app = create_app()

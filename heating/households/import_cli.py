"""``flask import-households`` (being written)."""
from flask import Flask


def register_import_cli(app: Flask) -> None:
    """Adds the import command to the app's CLI."""

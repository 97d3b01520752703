"""CLI commands beyond ``run`` and ``validate``, one module per analysis.

Each module defines ``register(app: typer.Typer) -> None``, which adds its commands.
"""

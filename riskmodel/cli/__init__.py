"""The ``riskmodel`` command line: a typer app (:mod:`riskmodel.cli.app`), one module per command.

Nothing else in the package imports this one.
"""

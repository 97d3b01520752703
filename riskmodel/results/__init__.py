"""Results: engine outcomes reduced to xarray, the one MCSE rule, per-draw outcomes, tables.

Modules: :mod:`.collect` (reduction), :mod:`.mcse`, :mod:`.perdraw` and :mod:`.tables` (the
tables of saved Datasets). This ``__init__`` imports nothing, so ``import
riskmodel.results.tables`` (as the report does) does not load the engine.
"""

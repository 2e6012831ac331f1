"""``clara automl``: the SDK's AutoML search spaces searched on Optuna.

A search is many ordinary runs: :mod:`.space` turns a train config's search space into
Optuna distributions, :mod:`.apply` writes one recommendation into a standalone train
config, :mod:`.executor` trains it as a trial MMAR with the real ``clara train`` in a
process of its own, :mod:`.study` keeps the Optuna study (a journal file in the MMAR,
or an RDB URL) and runs the workers, :mod:`.report` shows the results. The SDK's
Controller and AutoML Handler contracts are in :mod:`.sdk`; the built-in controllers
(:mod:`.controllers`) and handlers (:mod:`.handlers`) are components like any other.
Nothing here is imported by ``import clara_core``.
"""

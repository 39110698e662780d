"""lrsde: predict and rank learning-rate schedules.

Simulate SGD-approximating SDEs under any learning-rate schedule, fit loss-curve laws to
observed training curves, predict other schedules with uncertainty bands and rank them. A thin
layer over the Rust library (the same numbers as the ``lrsde`` command line, bit for bit);
long calls release the GIL and stop on Ctrl-C; errors are ``ValueError`` or
``FileNotFoundError`` with the CLI's one-line message; every object pickles.

Tables come back as pandas DataFrames when pandas is installed, else as dicts of numpy arrays.

>>> import lrsde
>>> s = lrsde.Schedule("cosine:peak=0.5,steps=2000,warmup=20")
>>> df = lrsde.simulate(model="nqm:dim=32", schedule=s, paths=256, seed=0)
>>> fit = lrsde.fit([lrsde.read_curve(p) for p in paths])           # doctest: +SKIP
>>> fit.rank(["cosine:peak=3e-4,steps=24000", "wsd:peak=3e-4,steps=24000"])  # doctest: +SKIP
"""

from ._lrsde import (
    DEFAULT_LAW,
    DEFAULT_LOSS_COLUMNS,
    Curve,
    Fit,
    Schedule,
    __version__,
    fit,
    load_fit,
    read_curve,
    simulate,
    steplaw,
)

__all__ = [
    "DEFAULT_LAW",
    "DEFAULT_LOSS_COLUMNS",
    "Curve",
    "Fit",
    "Schedule",
    "__version__",
    "fit",
    "load_fit",
    "read_curve",
    "simulate",
    "steplaw",
]

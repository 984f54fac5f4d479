"""lupsim: simulate randomised clinical trials in systemic lupus erythematosus.

The pipeline flows one way: a :class:`~lupsim.cohort.Population` becomes a
:class:`~lupsim.cohort.Cohort` of synthetic patients, scored with the
instruments of :mod:`lupsim.activity`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

"""Shared logic for the Fashion-MNIST report: data, models, training, evaluation, plots.

Notebooks import from here; nothing they need is defined twice.
"""

__version__ = "0.1.0"

"""eufunds: EU funding opportunity tracker and matcher for Swedish municipalities."""

__version__ = "0.1.0"

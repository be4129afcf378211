"""visionrepro: reproducible small-CNN vision experiments."""

__version__ = "0.1.0"

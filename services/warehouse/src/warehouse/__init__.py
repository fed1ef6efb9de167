"""MusicCorp's warehouse service: stock per SKU, reservations for orders, and dispatches."""

__version__ = "0.1.0"

"""MusicCorp's order service: orders, their history, and the fulfilment of each."""

__version__ = "0.1.0"

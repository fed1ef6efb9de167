"""MusicCorp's catalog service: albums, their stock-keeping ids and prices."""

__version__ = "0.1.0"

"""MusicCorp's payment service: takes and refunds the payments of orders through a card processor."""

__version__ = "0.1.0"

"""MusicCorp's notification service: the emails sent to customers about their orders."""

__version__ = "0.1.0"

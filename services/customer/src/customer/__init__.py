"""MusicCorp's customer service: customers' profiles and delivery addresses."""

__version__ = "0.1.0"

"""MusicCorp's identity service: accounts' credentials and signing keys; it issues the shop's access tokens."""

__version__ = "0.1.0"

"""MusicCorp's loyalty service: customers' points, awarded for orders and revoked on refunds."""

__version__ = "0.1.0"

"""MusicCorp's storefront backend-for-frontend: page-shaped calls over the other services."""

__version__ = "0.1.0"

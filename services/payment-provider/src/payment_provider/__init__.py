"""A fake card processor: charges and refunds behind idempotency keys, with latency, declines and failures."""

__version__ = "0.1.0"

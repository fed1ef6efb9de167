"""Tests against the real databases (SQLite, PostgreSQL) and a real JetStream server."""

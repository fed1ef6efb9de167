"""Tests of the domain, the operations and the command handlers, over in-memory fakes."""

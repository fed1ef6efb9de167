"""The warehouse's tests: unit (domain, operations and handlers over fakes) and integration (real databases and broker)."""

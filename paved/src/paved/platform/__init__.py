"""The local platform behind ``paved up``: embedded NATS, migrations, and supervised service processes."""

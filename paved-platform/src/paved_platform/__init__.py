"""paved's platform: the ``paved`` command and what it runs on one machine.

``paved up`` (embedded NATS, migrations, supervised service processes), ``status``, ``logs``, ``down``,
``streams``, ``dlq`` and ``sagas``; and ``paved_platform.testing``, the real servers tests start. A
distribution of its own, so that a service's production environment installs only the library, ``paved``.
"""

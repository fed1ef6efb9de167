"""paved's platform: the ``paved`` command and what it runs on one machine.

``paved up`` (embedded NATS, the fault proxy, migrations, supervised service processes), ``status``, ``logs``,
``down``, ``chaos``, ``streams``, ``dlq`` and ``sagas``; ``paved_platform.testing``, the real servers tests
start; and ``paved_platform.faults``, the Envoy fault proxy both use. A distribution of its own, so that a
service's production environment installs only the library, ``paved``.
"""

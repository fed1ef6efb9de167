from paved.migrations import run_env

from payment_provider.store import metadata

run_env(metadata)

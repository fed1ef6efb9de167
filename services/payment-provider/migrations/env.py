from paved.migrations import run_env

from payment_provider.tables import metadata

run_env(metadata)

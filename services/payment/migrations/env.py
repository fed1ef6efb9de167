from paved.migrations import run_env

from payment.tables import metadata

run_env(metadata)

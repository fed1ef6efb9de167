from paved.migrations import run_env

from customer.tables import metadata

run_env(metadata)

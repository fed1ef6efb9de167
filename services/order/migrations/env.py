from paved.migrations import run_env

from order.tables import metadata

run_env(metadata)

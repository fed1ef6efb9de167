from paved.migrations import run_env

from warehouse.tables import metadata

run_env(metadata)

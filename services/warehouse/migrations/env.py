from paved.migrations import run_env

from warehouse.store import metadata

run_env(metadata)

from paved.migrations import run_env

from catalog.tables import metadata

run_env(metadata)

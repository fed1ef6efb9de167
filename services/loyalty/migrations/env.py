from paved.migrations import run_env

from loyalty.tables import metadata

run_env(metadata)

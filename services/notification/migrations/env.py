from paved.migrations import run_env

from notification.tables import metadata

run_env(metadata)

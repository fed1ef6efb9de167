from customer.store import metadata
from paved.migrations import run_env

run_env(metadata)

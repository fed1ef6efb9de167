"""web-bff keeps no tables: `paved prepare` migrates every service, so this applies an empty schema."""

from paved.migrations import run_env
from sqlalchemy import MetaData

run_env(MetaData())

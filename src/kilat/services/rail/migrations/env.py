from kilat.platform.migrations import run_env
from kilat.services.rail.models import metadata

run_env(metadata)

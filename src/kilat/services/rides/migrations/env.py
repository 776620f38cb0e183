from kilat.platform.migrations import run_env
from kilat.services.rides.models import metadata

run_env(metadata)

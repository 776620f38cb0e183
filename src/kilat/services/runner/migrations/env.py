from kilat.platform.migrations import run_env
from kilat.services.runner.models import metadata

run_env(metadata)

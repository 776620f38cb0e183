from kilat.platform.migrations import run_env
from kilat.services.tracking.models import metadata

run_env(metadata)

from kilat.platform.migrations import run_env
from kilat.services.identity.models import metadata

run_env(metadata)

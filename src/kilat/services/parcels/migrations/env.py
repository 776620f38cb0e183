from kilat.platform.migrations import run_env
from kilat.services.parcels.models import metadata

run_env(metadata)

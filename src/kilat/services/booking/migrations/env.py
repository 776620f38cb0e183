from kilat.platform.migrations import run_env
from kilat.services.booking.models import metadata

run_env(metadata)

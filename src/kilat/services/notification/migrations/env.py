from kilat.platform.migrations import run_env
from kilat.services.notification.models import metadata

run_env(metadata)

from kilat.platform.migrations import run_env
from kilat.services.payment.models import metadata

run_env(metadata)

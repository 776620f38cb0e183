from kilat.platform.migrations import run_env
from kilat.services.review.models import metadata

run_env(metadata)

from kilat.platform.migrations import run_env
from tests.support.notes.models import metadata

run_env(metadata)

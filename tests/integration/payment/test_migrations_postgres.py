"""On PostgreSQL too, the hand-written migrations build exactly the schema the models describe."""

from tests.service.payment.test_migrations import test_migrated_schema_matches_the_models

__all__ = ["test_migrated_schema_matches_the_models"]

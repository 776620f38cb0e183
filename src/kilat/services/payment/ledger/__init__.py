"""The double-entry ledger every money movement is posted to."""

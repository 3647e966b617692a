"""The append-only audit log: one record() called by services."""

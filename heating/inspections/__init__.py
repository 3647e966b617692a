"""Installation records, inspection assignments, on-site inspections with photos, and the
documents uploaded on a case."""

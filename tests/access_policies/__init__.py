"""Access-matrix cells per domain; see tests/test_access_matrix.py."""

"""Domain-free kernel: database base, ids, masking, time, pagination."""

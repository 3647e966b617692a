"""County → township → village, with 12-digit codes and yearly targets."""

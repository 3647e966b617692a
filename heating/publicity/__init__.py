"""公示 public notices: frozen amounts posted for a period, objections, confirmation."""

"""Subsidy policies (per programme year and conversion type) and the pure calculator."""

"""Households: the case, its lifecycle, forms, views and services."""

"""Payout batches, payments, bank files, bank results and account corrections; running
subsidy usage files from the power and gas companies."""

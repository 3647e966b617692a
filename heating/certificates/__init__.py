"""Acceptance certificates (验收合格证明): serials, verification, PDFs.

``render`` turns plain data into PDF bytes (certificate, batch, application form, acceptance
record); it knows nothing of the database or the request.
"""

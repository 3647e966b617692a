"""What the audit codes mean, in the reader's language: every action recorded anywhere
(``record()``, ``record_many()``, the bulk import and the demo data), the kinds of object a row
is about, and the names of the fields in before → after.

``tests/audit/test_labels.py`` reads the code for every action recorded and fails when one has
no label here: a new ``record("…")`` needs its line in ACTION_GROUPS.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

#: (group, [(action code, label)]): the filter's choices, grouped as people look for them
ACTION_GROUPS: tuple[tuple[str, Any, tuple[tuple[str, Any], ...]], ...] = (
    ("cases", _l("Cases"), (
        ("household.created", _l("Household registered")),
        ("household.imported", _l("Household imported from a file")),
        ("household.edited", _l("Household data edited")),
        ("household.corrected", _l("Household data corrected after approval")),
        ("household.submit", _l("Submitted to the township")),
        ("household.resubmit", _l("Resubmitted to the township")),
        ("household.approve", _l("Approved by the township")),
        ("household.return", _l("Returned to the village")),
        ("household.install", _l("Installation completed")),
        ("household.pass", _l("Inspection passed")),
        ("household.fail", _l("Inspection failed")),
        ("household.rework", _l("Rework recorded")),
        ("household.publicize", _l("Put on public notice")),
        ("household.unpublicize", _l("Taken off public notice")),
        ("household.object", _l("Objection raised against the case")),
        ("household.dismiss", _l("Objection dismissed, back on notice")),
        ("household.uphold", _l("Objection upheld, back to installed")),
        ("household.revoke", _l("Certificate revoked, back to installed")),
        ("household.confirm", _l("Confirmed after the notice period")),
        ("household.roster", _l("Put on a payout roster")),
        ("household.unroster", _l("Taken off a payout roster")),
        ("household.pay", _l("Subsidy paid")),
        ("household.payment_fail", _l("Payment failed")),
        ("household.repay", _l("Put on a re-pay roster")),
        ("household.withdraw", _l("Case withdrawn")),
        ("household.cancel", _l("Case cancelled")),
        ("household.reveal_id_number", _l("Full ID number shown")),
        ("household.reveal_bank_account", _l("Full account number shown")),
        ("household.reveal_phone", _l("Full mobile number shown")),
        ("household.holder_exception", _l("Account holder exception recorded")),
        ("household.print_name", _l("Print spelling of the name recorded")),
        ("household.bank_corrected", _l("Bank account corrected")),
        ("household.application_printed", _l("Application form printed")),
        ("installation.recorded", _l("Installation recorded")),
        ("installation.edited", _l("Installation edited")),
        ("inspection.assigned", _l("Inspector assigned")),
        ("inspection.recorded", _l("Inspection result recorded")),
        ("inspection.record_printed", _l("Acceptance record printed")),
        ("upload.stored", _l("Photo or document uploaded")),
        ("upload.viewed", _l("Photo or document viewed")),
        ("followup.recorded", _l("Follow-up visit recorded")),
        ("followup.sampled", _l("Follow-up sample drawn")),
    )),
    ("campaigns", _l("Follow-up campaigns"), (
        ("campaign.created", _l("Follow-up campaign created, population frozen")),
        ("campaign.approved", _l("Overlapping follow-up campaign approved")),
        ("campaign.drawn", _l("Follow-up campaign sample drawn")),
        ("campaign.closed", _l("Follow-up campaign closed")),
        ("campaign.visit_assigned", _l("Follow-up visit assigned")),
        ("installer.created", _l("Installer company recorded")),
        ("installer.edited", _l("Installer company edited")),
        ("installer.matched", _l("Typed installer names matched to a company")),
        ("installer.name_resolved", _l("Typed installer name resolved to a company")),
    )),
    ("certificates", _l("Certificates"), (
        ("certificate.issued", _l("Certificate issued")),
        ("certificate.rendered", _l("Certificate PDF made")),
        ("certificate.downloaded", _l("Certificate downloaded")),
        ("certificate.batch_printed", _l("Certificates printed for a village")),
        ("certificate.revoked", _l("Certificate revoked")),
    )),
    ("notices", _l("Public notices"), (
        ("notice.published", _l("Notice published")),
        ("notice.downloaded", _l("Notice downloaded")),
        ("notice.entry_removed", _l("Case taken off a notice")),
        ("notice.confirmed", _l("Notice period over, cases confirmed")),
        ("objection.recorded", _l("Objection recorded")),
        ("objection.dismissed", _l("Objection dismissed")),
        ("objection.upheld", _l("Objection upheld")),
    )),
    ("policies", _l("Subsidy policies"), (
        ("policy.create", _l("Policy created")),
        ("policy.update", _l("Policy edited")),
        ("policy.new_version", _l("New policy version")),
        ("policy.supersede", _l("Policy replaced by a new version")),
    )),
    ("payouts", _l("Payouts"), (
        ("payout.batch_created", _l("Payout batch created")),
        ("payout.batch_totals", _l("Batch totals updated")),
        ("payout.payment_voided", _l("Payment voided")),
        ("payout.batch_approved", _l("Payout batch approved")),
        ("payout.batch_dropped", _l("Payout batch dropped")),
        ("payout.bank_file_frozen", _l("Bank file made")),
        ("payout.bank_file_download", _l("Bank file downloaded")),
        ("payout.roster_printed", _l("Payout roster printed")),
        ("payout.results_imported", _l("Bank results file imported")),
        ("payout.batch_closed", _l("Payout batch closed")),
        ("payout.correction_requested", _l("Account correction requested")),
        ("payout.correction_approved", _l("Account correction approved")),
        ("payout.correction_rejected", _l("Account correction rejected")),
        ("recovery.opened", _l("Recovery opened")),
        ("recovery.received", _l("Recovery receipt recorded")),
        ("recovery.waiver_requested", _l("Recovery waiver requested")),
        ("recovery.waived", _l("Recovery waived")),
        ("recovery.waiver_rejected", _l("Recovery waiver rejected")),
        ("usage.previewed", _l("Usage file checked")),
        ("usage.rejected", _l("Usage file refused")),
        ("usage.imported", _l("Usage file imported")),
        ("usage.low_usage_export", _l("Low-usage list exported")),
    )),
    ("files", _l("Imports and exports"), (
        ("imports.previewed", _l("Household file checked")),
        ("imports.rejected", _l("Household file refused")),
        ("imports.confirmed", _l("Household file imported")),
        ("households.export", _l("Household ledger exported")),
        ("households.export_full", _l("Household ledger exported with full numbers")),
        ("areas.loaded", _l("Areas loaded")),
    )),
    ("programme", _l("Running the programme"), (
        ("areas.target_set", _l("Target set")),
        ("reports.year_dates_set", _l("Programme year dates set")),
        ("reports.thresholds_set", _l("Overdue thresholds set")),
        ("reports.monthly_published", _l("Monthly report published")),
    )),
    ("accounts", _l("Accounts"), (
        ("login", _l("Logged in")),
        ("login.failed", _l("Failed login")),
        ("logout", _l("Logged out")),
        ("user.locked", _l("Account locked after failed logins")),
        ("user.unlocked", _l("Account unlocked")),
        ("user.password_changed", _l("Password changed")),
        ("user.password_reset", _l("Password reset by an administrator")),
        ("user.created", _l("User created")),
        ("user.renamed", _l("Display name changed")),
        ("user.role_granted", _l("Role added")),
        ("user.role_revoked", _l("Role removed")),
        ("user.enabled", _l("Account enabled")),
        ("user.disabled", _l("Account disabled")),
    )),
)

ACTIONS: dict[str, Any] = {code: label for _, _, rows in ACTION_GROUPS for code, label in rows}
#: group key → its action codes (the filter's "all … actions" entries)
GROUP_ACTIONS: dict[str, tuple[str, ...]] = {
    key: tuple(code for code, _ in rows) for key, _, rows in ACTION_GROUPS}


def action_label(code: str) -> Any:
    """The label of an action code; a code from before this table (or a test's) as it is."""
    return ACTIONS.get(code, code)


def action_choices() -> dict[str, list[tuple[str, Any]]]:
    """Select options grouped: each group starts with "all of them" (value ``group:key``)."""
    return {str(title): [(f"group:{key}", _l("All: %(group)s", group=title))]
            + [(code, label) for code, label in rows]
            for key, title, rows in ACTION_GROUPS}


OBJECT_TYPES: dict[str, Any] = {
    "household": _l("Case"),
    "households": _l("Household ledger"),
    "user": _l("User"),
    "area": _l("Area"),
    "certificate": _l("Certificate"),
    "notice": _l("Public notice"),
    "notice_entry": _l("Notice entry"),
    "objection": _l("Objection record"),
    "subsidy_policy": _l("Subsidy policy"),
    "payout_batch": _l("Payout batch"),
    "payment": _l("Payment"),
    "account_correction": _l("Account correction"),
    "import": _l("Household file"),
    "usage_file": _l("Usage file"),
    "usage_import": _l("Usage import"),
    "recovery": _l("Recovery (追回)"),
    "campaign": _l("Follow-up campaign"),
    "installer_company": _l("Installer company"),
    "monthly_report": _l("Monthly report"),
}

#: before/after keys as the screens call them (a key missing here is shown as it is)
FIELDS: dict[str, Any] = {
    # cases
    "state": _l("State"), "case_state": _l("Case state"), "programme_year": _l("Programme year"),
    "village": _l("Village"), "township": _l("Township"), "head_name": _l("Head of household"),
    "print_name": _l("Print spelling"), "print_name_reason": _l("Why this print spelling"),
    "id_number": _l("ID number"), "id_hash": _l("ID number key"),
    "phone": _l("Mobile number"), "group_name": _l("Group"), "house_no": _l("House number"),
    "residents": _l("Residents"), "heated_area": _l("Heated area (m²)"),
    "previous_heating": _l("Previous heating"), "coal_stoves": _l("Coal stoves"),
    "low_income": _l("Low-income household (低保/困难户)"),
    "conversion_type": _l("Conversion type"), "device_kind": _l("Device kind"),
    "bank_name": _l("Bank"), "bank_account": _l("Account number"),
    "bank_hash": _l("Account number key"), "account_holder": _l("Account holder"),
    "holder_exception_reason": _l("Reason for the account holder exception"),
    "household": _l("Case"), "case": _l("Case"), "cases": _l("Cases"),
    # installation, inspection, follow-up, uploads
    "brand": _l("Brand"), "model": _l("Model"), "factory_serial": _l("Factory serial number"),
    "units": _l("Units"), "rated_power": _l("Rated power (kW)"),
    "invoice_amount": _l("Invoice amount (yuan)"), "installer": _l("Installer company"),
    "install_date": _l("Install date"), "meter_no": _l("Electricity meter no. or gas account no."),
    "inspector": _l("Inspector"), "visit_date": _l("Visit date"),
    "inspection": _l("Inspection"), "result": _l("Result"), "checklist": _l("Checklist"),
    "stoves_removed": _l("Coal stoves removed"), "photos": _l("Photos"),
    "follow_up": _l("Follow-up visit"), "visited_on": _l("Visit date"), "note": _l("Note"),
    "running_subsidy_stopped": _l("Running subsidy stopped"),
    "was_stopped": _l("Running subsidy stopped before"),
    "campaign": _l("Follow-up campaign"), "seed": _l("Seed"),
    "population": _l("Population"), "population_sha256": _l("Population fingerprint"),
    "sample": _l("Sample"), "townships": _l("Townships"),
    "rate_percent": _l("Rate per township (per cent)"),
    "first_n": _l("First installations of every installer company"),
    "overlaps": _l("Overlaps open campaigns"), "names": _l("Names as typed"),
    "installations": _l("Installations"), "credit_code": _l("Unified social credit code"),
    "contact_name": _l("Contact"), "contact_phone": _l("Contact phone"),
    "installer_company_id": _l("Installer company"),
    "offered": _l("Offered in the installation form"), "reason": _l("Reason"),
    "asked": _l("Cases asked for"), "paid_cases": _l("Paid cases to draw from"),
    "upload": _l("Uploaded file"), "kind": _l("Kind"), "size": _l("Size (bytes)"),
    "taken_at": _l("Taken at"),
    # certificates and notices
    "serial": _l("Serial"), "serials": _l("Serials"), "revoked": _l("Revoked"),
    "missing_glyphs": _l("Characters the font lacks"), "certificate": _l("Certificate"),
    "number": _l("Number"), "starts_on": _l("First day"), "ends_on": _l("Last day"),
    "confirmed": _l("Cases confirmed"), "entry": _l("Notice entry"),
    "entry_state": _l("Entry state"),
    # accounts
    "username": _l("User name"), "display_name": _l("Display name"), "role": _l("Role"),
    "area_id": _l("Area"), "active": _l("Can log in"),
    # money, files
    "filename": _l("File"), "utility": _l("Company"), "season": _l("Heating season"),
    "count": _l("Count"), "total_fen": _l("Total"), "status": _l("Status"),
    "batch": _l("Payout batch"), "import": _l("Import"), "import_id": _l("Import"),
    "paid": _l("Payments paid"), "paid_fen": _l("Amount paid"), "failed": _l("Payments failed"),
    "failed_fen": _l("Amount failed"), "repay": _l("Re-pay batch"),
    "format": _l("Format"), "rows": _l("Rows"),
    "filters": _l("Filters"), "full_numbers": _l("Full numbers"),
    "new": _l("New"), "duplicates": _l("Duplicates"),
    "errors": _l("Errors"), "imported": _l("Imported"), "code": _l("Reason code"),
    "matched": _l("Matched"), "excluded": _l("Excluded"),
    "low_usage": _l("Low usage"), "reasons": _l("Reasons"),
    # subsidy policies
    "county_id": _l("County"), "version": _l("Version"), "supersedes_id": _l("Replaces"),
    "name": _l("Name"), "reference": _l("Policy document number (文号)"),
    "equipment_method": _l("Equipment subsidy"),
    "equipment_rate_e4": _l("Share of the invoice"), "area_rate_fen": _l("Rate per m²"),
    "equipment_cap_fen": _l("Equipment subsidy cap"),
    "running_cap_units": _l("Running subsidy usage cap"),
    "season_start": _l("Season starts"), "season_end": _l("Season ends"),
    "seasons": _l("Seasons with a running subsidy"),
    "season_rates_e4": _l("Unit rate per season (yuan)"),
    "effective_from": _l("Effective from"), "effective_to": _l("Effective until"),
    "recovery_seasons": _l("Recovery period (heating seasons)"),
    # recoveries (追回)
    "payment": _l("Payment"), "amount_fen": _l("Amount"), "recovered_fen": _l("Recovered"),
    "outstanding_fen": _l("Outstanding"), "waived_fen": _l("Waived"),
    "received_on": _l("Received on"), "paid_on": _l("Paid on"),
    "window_ends": _l("Recovery period ends"), "waiver_reason": _l("Reason for the waiver"),
    "requested_by": _l("Requested by"), "policy": _l("Subsidy policy"),
    "superseded_at": _l("Replaced on"), "id": _l("Number in the system"),
    # fingerprints last: long, and only there to compare two rows
    "sha256": _l("File fingerprint (SHA-256)"), "csv_sha256": _l("CSV fingerprint"),
    "xlsx_sha256": _l("Excel fingerprint"),
}


def field_label(key: str) -> Any:
    return FIELDS.get(key, key)

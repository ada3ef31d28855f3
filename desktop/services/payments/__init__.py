"""Payments from file or counter to ledger: payment files (importers), posting and matching, plans, refunds, the daily close."""

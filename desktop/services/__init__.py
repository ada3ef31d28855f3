"""Use cases: one function each. Each takes the acting user, checks permission, runs in a
unit of work, writes the audit trail and commits once. No Qt, no ReportLab here."""

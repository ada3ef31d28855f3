"""The rules of the trade, in plain Python: no Qt, no SQLAlchemy, no ReportLab."""

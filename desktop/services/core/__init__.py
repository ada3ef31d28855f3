"""What every use case stands on: the application context and unit of work, the audit trail, settings, the agency clock."""

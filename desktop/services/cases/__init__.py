"""Case processing: finding and reading cases, the shared case steps, holds, notes, owners, the daily escalation, collections."""

"""Engine and session setup, mapped tables, unit of work and migrations."""

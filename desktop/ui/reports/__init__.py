"""The Patrol & Reports area: the dashboard, the management reports and the patrol pages (issue 18)."""

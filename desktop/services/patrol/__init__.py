"""Patrol: compliance and demand statistics per zone (``stats``), and their map (``compliance_map``)."""

"""Patrol pages of the Patrol & Reports area: the compliance map, the patrol plan, plan vs actual."""

"""Patrol pages of the Patrol & Reports area."""

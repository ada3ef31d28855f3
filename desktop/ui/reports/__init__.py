"""The Patrol & Reports area."""

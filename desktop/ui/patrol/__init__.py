"""Patrol screens: the compliance map (``compliance``)."""

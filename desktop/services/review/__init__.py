"""Citation review: the queue and its decisions, the review checks, and the reference data they use (zones, permits)."""

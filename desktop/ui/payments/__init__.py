"""The Payments screen: the counter, the queues and the daily close."""

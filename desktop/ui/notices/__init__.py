"""The Notices screen: the queue, print runs, batches and the mail log."""

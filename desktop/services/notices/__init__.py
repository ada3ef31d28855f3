"""The mail room: what each queued piece prints, notice runs in print batches, the mail log and returned mail."""

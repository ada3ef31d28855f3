"""Field sync use cases: Sync now and dock bundles into the database (the ingest), devices, the quarantine, reference data out."""

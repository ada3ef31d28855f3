"""The Devices & Sync screen: endpoints, Sync now, handhelds, the quarantine and dock bundles."""

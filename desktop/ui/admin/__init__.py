"""The Administration screen: profiles, users, settings."""

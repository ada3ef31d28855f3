"""Administration: user accounts and signing in, jurisdiction profiles as data, what the Administration screen lists."""

"""The Patrol & Reports area: its pages (``pages.PAGES``)."""

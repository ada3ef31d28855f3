"""The Review screen, its dialogs and the Permits screen."""

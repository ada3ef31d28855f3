"""The demo office and the field simulator: believable data to open the application on. Not product code: nothing in
desktop.services or desktop.sync imports it."""

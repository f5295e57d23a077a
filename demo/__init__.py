"""The demo application: a login form, two protected pages and a logout button."""

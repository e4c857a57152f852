"""A local Microsoft identity platform: authorize, token, device code, bearer checks."""

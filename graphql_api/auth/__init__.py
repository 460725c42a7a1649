"""Who is asking: Django sessions for the browser, hashed bearer tokens for mobile clients."""

"""The player profile page: a page shell whose script reads everything through the public API."""

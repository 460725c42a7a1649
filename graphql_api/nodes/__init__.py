"""Relay's Node machinery: opaque global IDs, per-operation loaders, ``node`` and ``nodes``."""

"""What every platform app that records activity does once it is ready."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig


class PlatformAppConfig(AppConfig):
    """An app whose ``activity`` module translates its rows into events: its ``register()``
    hands the translators to the ledger as sources when the app is ready (DESIGN.md, rule 2).

    Import the module, not the class, into an ``apps.py``: Django uses the one AppConfig class
    it finds there, and would find two."""

    def ready(self) -> None:
        import_module(f"{self.name}.activity").register()

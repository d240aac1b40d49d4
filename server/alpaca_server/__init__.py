"""Alpaca's language server: a thin pygls adapter over `alpaca_index` (the index never imports it)."""

__version__ = "0.1.0"

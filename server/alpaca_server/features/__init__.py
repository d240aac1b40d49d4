"""One LSP feature per module, each a class owning its state (see `alpaca_server.feature`)."""

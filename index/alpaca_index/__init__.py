"""Alpaca's index core: load docs, chunk them along headings, embed, store in LanceDB, search.

No LSP or UI code lives here; the language server and the CLI are thin layers on top.
"""

from alpaca_index import offline as _offline

_offline.enforce()

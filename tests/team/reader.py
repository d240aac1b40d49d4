"""A long-running reader of a shared index (like an editor session or an MCP server).

One query per stdin line; prints one JSON line per query with the top paths and the index version
seen by a direct reader (LanceDB on the object store) and by a cached reader (local mirror)."""

import json
import sys

from alpaca_index.embedding import Embedder
from alpaca_index.team.shared_cache import open_shared

uri = sys.argv[1]
embedder = Embedder()
readers = {"direct": open_shared(uri, cache=False, embedder=embedder),
           "cached": open_shared(uri, cache=True, embedder=embedder)}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    query = line.strip()
    out = {}
    for name, index in readers.items():
        hits = index.search_files(query, 3)
        out[name] = {"paths": [h.path for h in hits], "texts": [h.text for h in hits], "version": index.status()["version"]}
    print(json.dumps(out), flush=True)

"""Run a tiny `alpaca tune`, printing each progress event; pause for good at the nth `stage` event so a
test can kill -9 it exactly there."""

import sys
import time

from alpaca_index.api import DocsIndex
from alpaca_index.embedding.tune import TuneSettings, tune

db, stage, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {"count": 0}


def report(event, done, total, current):
    print(event, done, total, flush=True)
    if event == stage:
        seen["count"] += 1
        if seen["count"] == nth:
            print("paused", flush=True)
            time.sleep(3600)


index = DocsIndex(db)
tune(index.db, index.store, index.embedder, TuneSettings(max_pairs=24, batch_size=8, seed=1), report)
print("done", flush=True)

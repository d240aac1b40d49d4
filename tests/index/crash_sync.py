"""Run a sync in small batches, printing each progress event, so a test can kill -9 it mid-way."""

import sys

import alpaca_index.sync as sync_module
from alpaca_index.api import DocsIndex

sync_module.BATCH_FILES = 1  # many small writes: more places to be killed in


def report(stage, done, total, current):
    print(stage, done, total, flush=True)


DocsIndex(sys.argv[1]).sync([sys.argv[2]], progress=report)
print("done", flush=True)

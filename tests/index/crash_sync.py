"""Run a sync in small batches, printing each progress event, so a test can kill -9 it mid-way."""

import os
import sys
import time

import alpaca_index.sync as sync_module
from alpaca_index.api import DocsIndex

sync_module.BATCH_FILES = 1  # many small writes: more places to be killed in
PAUSE_AT = os.environ.get("CRASH_SYNC_PAUSE_AT")  # a stage to wait at, so the kill lands exactly there


def report(stage, done, total, current):
    print(stage, done, total, flush=True)
    if stage == PAUSE_AT:
        time.sleep(600)


DocsIndex(sys.argv[1]).sync([sys.argv[2]], progress=report)
print("done", flush=True)

"""Query embedding: one torch thread for the query (so it doesn't fight LanceDB's threads), the
same vector as bulk encoding, and every core left to bulk encoding elsewhere."""

import os
import threading

import numpy as np
import torch

from alpaca_index import embedding


def test_a_query_is_encoded_on_one_thread_and_bulk_work_keeps_every_core(embedder):
    query = "How do I scale an asynchronous inference endpoint to zero?"
    assert np.allclose(embedder.encode_query(query), embedder.encode([query])[0], atol=1e-5)
    assert embedding._QUERY_THREAD.submit(torch.get_num_threads).result() == 1
    seen = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    # the caller and a new thread (the server's indexer) keep the default, not the query thread's one
    assert seen == [torch.get_num_threads()]
    if len(os.sched_getaffinity(0)) > 1:
        assert seen[0] > 1

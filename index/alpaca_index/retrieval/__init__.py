"""Hybrid search over the store, page-level ranking, and the retrieval evaluation."""

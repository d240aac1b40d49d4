"""A shared index on object storage: data residency, the reader's local cache."""

"""The LanceDB tables: chunks with vectors and full text, the file catalog, metadata; caches."""

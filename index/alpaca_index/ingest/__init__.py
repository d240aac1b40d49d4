"""Documents in: walking the folders, reading each format, cleaning, chunking along headings."""

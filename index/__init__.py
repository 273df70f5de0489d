"""Index: embeddings, FAISS, BM25 and their fusion, built from ingested chunks and kept on disk."""

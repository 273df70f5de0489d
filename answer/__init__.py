"""Answering: hits in, a short answer with numbered citations out (extractive by default)."""

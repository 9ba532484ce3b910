"""Adapters around heavy or external engines (Tesseract, Prophet). Each imports its library lazily."""

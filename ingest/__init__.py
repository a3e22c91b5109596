"""Ingestion: find documents, read them into sections, cut sections into chunks, embed, store."""

"""Turning retrieved passages into answers with exact citations, in the asker's language."""

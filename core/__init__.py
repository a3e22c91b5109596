"""Pieces every stage shares: settings, the plain data passed between stages, errors, offline switches."""

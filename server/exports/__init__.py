"""Exports: writing files, serving them until they expire, and callbacks."""

"""Annotation platform external API: shared settings, errors and the command line."""

"""Projects: creation (init), progress, task listing, visibility."""

"""The lifecycle of projects and tasks: `rules` (pure transitions and counter changes)
and `apply` (their sums handed to storage)."""

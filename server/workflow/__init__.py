"""The internal workflow: configuring, assigning, starting and annotating tasks."""

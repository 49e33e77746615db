"""One module per group of figures: init, progress, export, prediction import."""

"""Export file formats: one module per format, and the registry that names them."""

"""Bulk import of annotated data (ground truth): Label Studio task exports and COCO."""

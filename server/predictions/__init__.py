"""Prediction import: AAP JSON 1.x and COCO files into a project (seed 002)."""

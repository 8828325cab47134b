"""Pulumi adapters over the image_digest core."""

"""The public facades: ``blot_image``, ``blot`` and ``blot_to_zarr`` (layer 3)."""

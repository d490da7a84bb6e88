"""Input and output: sources a tile reads its window from, the zarr output store, FITS/WCS.

Layer 2, over the engine.
"""

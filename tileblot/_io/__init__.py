"""Input and output: sources a tile reads its window from, and the zarr output store.

Layer 2, over the engine.
"""

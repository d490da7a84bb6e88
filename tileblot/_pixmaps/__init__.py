"""Lazy pixmaps: from a pair of WCSs, or from an affine map (layer 2, over the engine)."""

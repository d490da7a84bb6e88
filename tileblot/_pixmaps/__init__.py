"""Lazy pixmaps: from a pair of WCSs (``_wcs``), or from an affine map (``_affine``); layer 2."""

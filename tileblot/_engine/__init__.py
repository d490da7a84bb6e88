"""The engine: planning (pure numpy), one tile start to finish, and dask graph building.

Layer 1, over the kernels: it knows nothing of files, zarr or the command line.
"""

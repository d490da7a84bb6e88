"""The names of an output store's parts, in one place (see :mod:`._store` for the layout)."""

#: The blotted image: a float32 array, one chunk per tile.
IMAGE = "image"
#: The tiles' completion records: one int64 per tile (see :mod:`._coverage`).
DONE = "tiles_done"
#: The attribute of the root group (and of the image) that holds the job's record.
ATTR = "tileblot"

"""The async engine: metadata, data types, chunk grids, indexing, the codec pipeline, arrays and groups."""

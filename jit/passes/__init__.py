"""Graph passes, one per file, and the pipeline that runs them."""

"""One module per measurement; each has ``run(*, mode, size) -> Result``."""

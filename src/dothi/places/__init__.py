"""Places: the administrative tree (units, boundaries, validity periods) and point lookup."""

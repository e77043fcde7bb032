"""Sources: the catalog of cities and datasets, and mapping their fields onto ours."""

"""Read side: read models kept by tracked projections, rebuildable from position 0."""

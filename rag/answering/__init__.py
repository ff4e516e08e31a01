"""The answering core: evidence units, their features, the learned scorer, and the two answerers."""

"""scalinglaws."""

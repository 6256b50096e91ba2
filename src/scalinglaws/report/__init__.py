"""Plots and reports. Importing this package is cheap; matplotlib loads inside the plot functions."""

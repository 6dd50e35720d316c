"""Columns check family: column and homepage updates, unit inspections, interaction and annual reports."""

"""Helpers shared by several check families: they sit below every family, and families never
import each other."""

"""Zvw incl. wijkverpleging and MSVT (zorgverzekeraars): AW319 (EI) declarations."""

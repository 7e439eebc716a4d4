"""Wlz (zorgkantoren): iWlz 2.2 chain and AW319 declarations."""

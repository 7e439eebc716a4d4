"""Forensische zorg (DJI, UZOVI 9992). Message layouts are provisional data tables."""

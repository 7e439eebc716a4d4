"""Onderaanneming: invoice a main contractor (verkoop) and check a subcontractor (inkoop)."""

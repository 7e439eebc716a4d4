"""Wmo and Jeugdwet (gemeenten): iWmo 3.2 and iJw 3.2."""

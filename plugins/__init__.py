"""The built-in financing plugins; each is a package with ``hooks.py`` holding only hookimpls."""

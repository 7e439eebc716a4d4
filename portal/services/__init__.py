"""Services: the rules, as plain functions over a SQLAlchemy session (testable without Flask)."""

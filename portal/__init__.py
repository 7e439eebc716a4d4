"""Declaratieportaal: declare and invoice care to every financier from one place."""

from portal.hookspecs import hookimpl


def create_app(config=None):
    from portal.app import create_app as _create_app

    return _create_app(config)


__all__ = ["create_app", "hookimpl"]

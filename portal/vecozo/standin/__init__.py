"""The VECOZO stand-in: a separate small Flask app with VECOZO's paths and contracts.

Start it with ``portal standin --host H --port P`` (the demo starts it on the web port + 1).
"""

from portal.vecozo.standin.app import create_standin_app

__all__ = ["create_standin_app"]

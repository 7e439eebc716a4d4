"""The application factory."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from portal import db, settings
from portal.plugins import Hooks, get_plugin_manager

csrf = CSRFProtect()
htmx = Htmx()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("PORTAL_INSTANCE") or None)
    app.config.update(settings.load(app.instance_path, config))
    os.makedirs(app.instance_path, exist_ok=True)

    from portal.logging import init_logging

    init_logging(app)

    pm = get_plugin_manager(
        blocked=app.config["PLUGINS_BLOCKED"],
        load_entrypoints=app.config["LOAD_ENTRYPOINT_PLUGINS"],
    )
    app.extensions["hooks"] = Hooks(pm, app.config["PLUGIN_SETTINGS"])

    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from portal import auth, jobs, web

    jobs.init_app(app)
    auth.init_app(app)
    web.init_app(app)

    from portal.views import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for blueprint in app.extensions["hooks"].blueprints():
        app.register_blueprint(blueprint, url_prefix=f"/f/{blueprint.name}")

    from portal import api

    api.init_app(app)

    from portal.cli import register_commands

    register_commands(app)
    logging.getLogger(__name__).debug(
        "portal ready with %d financings", len(app.extensions["hooks"].financings)
    )
    return app


def hooks() -> Hooks:
    from flask import current_app

    return current_app.extensions["hooks"]

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import func, select

from portal import charts
from portal.app import hooks
from portal.auth import AUTHENTICATED, has_permission, requires
from portal.db import db_session
from portal.models import BackgroundJob, Client, Legitimation
from portal.services import dashboard, finance
from portal.services.organisation import get_organisation
from portal.validators import format_cents
from portal.web import render

bp = Blueprint("main", __name__)


@bp.route("/")
@requires(AUTHENTICATED)
def index():
    s = db_session()
    stats = {}
    if has_permission("clients.view"):
        stats["clienten"] = s.scalar(select(func.count()).select_from(Client).where(Client.actief))
        stats["legitimaties"] = s.scalar(
            select(func.count()).select_from(Legitimation).where(Legitimation.status == "actief")
        )
    jobs = []
    if has_permission("jobs.view"):
        jobs = s.scalars(
            select(BackgroundJob).order_by(BackgroundJob.created_at.desc()).limit(5)
        ).all()
    actions = []
    if has_permission("clients.view"):  # the back office's day; care staff get their button
        actions = [
            (item, url_for(item.endpoint, **item.params))
            for item in dashboard.action_counts(s, hooks(), date.today())
            if item.endpoint in current_app.view_functions
            and (item.permission == AUTHENTICATED or has_permission(item.permission))
        ]
    return render_template(
        "main/index.html",
        org=get_organisation(s),
        stats=stats,
        jobs=jobs,
        actions=actions,
        show_plots=has_permission("declarations.view"),
    )


@bp.route("/start/geld")
@requires("declarations.view")
def money():
    """The plots: loaded by the start page after it shows (htmx), or a page of their own."""
    financing = request.args.get("financiering", "")
    if financing not in hooks().financings:
        financing = ""
    plots = build_plots(finance.figures(db_session(), date.today()), financing)
    return render("main/money.html", "main/_plots.html", plots=plots, financing=financing)


def _euro(cents: float) -> str:
    return f"€ {format_cents(round(cents))}"


def _euro_short(cents: float) -> str:
    euros = cents / 100
    if euros >= 1_000_000:
        return f"€ {euros / 1_000_000:.1f} mln".replace(".", ",")
    if euros >= 10_000:
        return f"€ {euros / 1000:.0f}k"
    if euros >= 1000:
        return f"€ {euros / 1000:.1f}k".replace(".", ",").replace(",0k", "k")
    return f"€ {euros:.0f}"


def build_plots(fig: finance.Figures, financing: str) -> list[dict]:
    """Each plot: a title, its SVG, and the figures behind it as a table (headers, rows)."""
    h = hooks()
    labels = [finance.month_name(m) for m in fig.months]
    plots = []

    codes = [financing] if financing else list(fig.revenue)
    per_month = {m: [0, 0, 0, 0] for m in fig.months}
    for code in codes:
        for m, row in fig.revenue.get(code, {}).items():
            if m in per_month:
                per_month[m] = [a + b for a, b in zip(per_month[m], row, strict=True)]
    series = [
        charts.Series(kind, [per_month[m][k] for m in fig.months])
        for k, kind in enumerate(finance.REVENUE_KINDS)
    ]
    scope = h.financing_label(financing) if financing else "alle financieringen"
    plots.append(
        {
            "key": "omzet",
            "title": f"Omzet per maand van zorg ({scope})",
            "svg": charts.bars(
                f"Omzet per maand ({scope})",
                "Gedeclareerd, toegekend, gefactureerd en betaald per maand, laatste 13 maanden.",
                labels,
                series,
                _euro_short,
            ),
            "legend": charts.legend(series),
            "headers": ["Maand", *finance.REVENUE_KINDS],
            "rows": [
                [labels[i]] + [_euro(v) for v in per_month[m]] for i, m in enumerate(fig.months)
            ],
        }
    )

    rate_series, rate_rows = [], []
    for naam, per in fig.rejection.items():
        values = [
            (100 * per[m][0] / per[m][1]) if m in per and per[m][1] else None for m in fig.months
        ]
        rate_series.append(charts.Series(naam, values))
        for i, m in enumerate(fig.months):
            if m in per:
                rej, n = per[m]
                rate_rows.append([naam, labels[i], f"{rej} van {n}", f"{100 * rej / n:.1f}%"])
    plots.append(
        {
            "key": "afwijzingen",
            "title": "Afgewezen regels per financier",
            "svg": charts.lines(
                "Percentage afgewezen declaratieregels per financier per maand",
                "Afgewezen regels als deel van de beantwoorde regels, per maand van zorg.",
                labels,
                rate_series or [charts.Series("geen declaraties", [None] * len(labels))],
                lambda v: f"{v:.0f}%",
                top=100
                if not rate_series or any(v and v > 50 for s in rate_series for v in s.values)
                else None,
            ),
            "legend": charts.legend(rate_series),
            "headers": ["Financier", "Maand", "Afgewezen", "Percentage"],
            "rows": rate_rows,
        }
    )

    buckets = list(fig.outstanding)
    plots.append(
        {
            "key": "openstaand",
            "title": "Openstaand naar ouderdom",
            "svg": charts.bars(
                "Openstaande bedragen naar ouderdom",
                "Open facturen (sinds de factuurdatum) en onbeantwoorde declaraties (sinds het "
                "indienen), per leeftijdsklasse.",
                buckets,
                [
                    charts.Series("Facturen", [fig.outstanding[b][0] for b in buckets]),
                    charts.Series("Declaraties", [fig.outstanding[b][1] for b in buckets]),
                ],
                _euro_short,
            ),
            "legend": charts.legend(
                [charts.Series("Facturen", []), charts.Series("Declaraties", [])]
            ),
            "headers": ["Ouderdom", "Facturen", "Declaraties"],
            "rows": [
                [b, _euro(fig.outstanding[b][0]), _euro(fig.outstanding[b][1])] for b in buckets
            ],
        }
    )

    plots.append(
        {
            "key": "doorlooptijd",
            "title": "Dagen van zorg tot geld",
            "svg": charts.lines(
                "Gemiddeld aantal dagen van zorg tot geld",
                "Dagen van het einde van de zorgperiode tot de betaling (facturen) of de "
                "toekenning (declaraties), per maand van zorg.",
                labels,
                [
                    charts.Series("Facturen", [fig.days[m][0] for m in fig.months]),
                    charts.Series("Declaraties", [fig.days[m][1] for m in fig.months]),
                ],
                lambda v: f"{v:.0f} d",
            ),
            "legend": charts.legend(
                [charts.Series("Facturen", []), charts.Series("Declaraties", [])]
            ),
            "headers": ["Maand", "Facturen (dagen)", "Declaraties (dagen)"],
            "rows": [
                [labels[i]] + [f"{v:.0f}" if v is not None else "—" for v in fig.days[m]]
                for i, m in enumerate(fig.months)
            ],
        }
    )
    return plots

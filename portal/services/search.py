"""One search box for the back office: clients by name (in any order, with or without initials
and tussenvoegsel), BSN, client number; declarations, invoices and messages by their number or id.

Names as people type them: "de Boer", "F. de Boer", "Boer, F.", "Boer" all find Frank de Boer
(achternaam "Boer", tussenvoegsel "de", voorletters "F."). Initials narrow the match (on the
voorletters or the first names); tussenvoegsels are left out of the match because they are
stored inconsistently (in ``tussenvoegsel`` or as part of ``achternaam``) and rank the results
instead. Every lookup is an indexed equality or the trigram-indexed name search; at most
``LIMIT`` rows per kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.models import Client, Invoice, Message
from portal.models.declaration import Declaration

LIMIT = 20

TUSSENVOEGSELS = frozenset(
    [
        "d'",
        "de",
        "del",
        "den",
        "der",
        "des",
        "di",
        "du",
        "het",
        "in",
        "la",
        "le",
        "op",
        "s",
        "t",
        "'t",
        "te",
        "ten",
        "ter",
        "uit",
        "van",
        "vd",
        "v/d",
        "von",
    ]
)
_INITIALS = re.compile(r"^(?:[A-Za-zÀ-ÿ]\.)+[A-Za-zÀ-ÿ]?\.?$|^[A-Za-zÀ-ÿ]$")


@dataclass
class Results:
    q: str
    clients: list[Client] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.clients) + len(self.declarations) + len(self.invoices) + len(self.messages)

    def only(self):
        """The single hit, when there is exactly one (the search goes straight to it)."""
        if self.count != 1:
            return None
        for kind in ("clients", "declarations", "invoices", "messages"):
            items = getattr(self, kind)
            if items:
                return kind, items[0]
        return None


@dataclass
class NameQuery:
    words: list[str]
    initials: str
    tussenvoegsel: str


def parse_name(q: str) -> NameQuery:
    """Split a typed name into surname/first-name words, initials and tussenvoegsel."""
    words, initials, tussen = [], "", []
    for token in q.replace(",", " ").split():
        low = token.lower()
        if low in TUSSENVOEGSELS:
            tussen.append(low)
        elif _INITIALS.match(token):
            initials += token.replace(".", "").upper()
        else:
            words.append(token)
    return NameQuery(words, initials, " ".join(tussen))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _client_conditions(q: str) -> list | None:
    name = parse_name(q)
    conds = []
    for word in name.words[:4]:
        like = f"%{_escape_like(word)}%"
        conds.append(
            or_(
                Client.achternaam.ilike(like, escape="\\"),
                Client.voornamen.ilike(like, escape="\\"),
            )
        )
    if not conds:
        if not name.tussenvoegsel:
            return None
        # only a tussenvoegsel ("van der"): surnames stored with it
        conds.append(Client.achternaam.ilike(f"{_escape_like(name.tussenvoegsel)} %", escape="\\"))
    if name.initials:
        first = _escape_like(name.initials[0])
        conds.append(
            or_(
                func.upper(Client.voorletters).like(f"{first}%", escape="\\"),
                func.upper(Client.voornamen).like(f"{first}%", escape="\\"),
            )
        )
    return conds


def _rank(client: Client, name: NameQuery) -> tuple:
    """Exact surname and matching tussenvoegsel first, then by name."""
    words = {w.lower() for w in name.words}
    surname = (client.achternaam or "").lower()
    exact = surname in words or surname == " ".join([name.tussenvoegsel, *words]).strip()
    tussen_ok = not name.tussenvoegsel or (client.tussenvoegsel or "").lower() == name.tussenvoegsel
    return (not exact, not tussen_ok, surname, client.voorletters or "", client.id)


def search(session: Session, q: str) -> Results:
    q = " ".join((q or "").split())[:100]
    res = Results(q)
    if not q:
        return res
    compact = q.replace(".", "").replace(" ", "")
    if compact.isdigit() and len(compact) == 9:
        res.clients = list(
            session.scalars(
                select(Client).where(or_(Client.bsn == compact, Client.clientnummer == q))
            )
        )
    else:
        by_number = list(
            session.scalars(select(Client).where(func.lower(Client.clientnummer) == q.lower()))
        )
        conds = _client_conditions(q)
        found = (
            list(session.scalars(select(Client).where(*conds).limit(LIMIT * 5))) if conds else []
        )
        name = parse_name(q)
        found.sort(key=lambda c: _rank(c, name))
        seen = {c.id for c in by_number}
        res.clients = (by_number + [c for c in found if c.id not in seen])[:LIMIT]
    if " " not in q:
        res.declarations = list(
            session.scalars(select(Declaration).where(Declaration.nummer == q).limit(LIMIT))
        )
        res.invoices = list(
            session.scalars(select(Invoice).where(Invoice.nummer == q).limit(LIMIT))
        )
        res.messages = list(
            session.scalars(
                select(Message)
                .where(
                    or_(
                        Message.traceer_id == q,
                        Message.conversatie_id == q,
                        Message.reference == q,
                    )
                )
                .order_by(Message.id.desc())
                .limit(LIMIT)
            )
        )
    return res

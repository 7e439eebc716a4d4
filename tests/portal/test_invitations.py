"""Inviting a user by e-mail: they choose their own password through a link that works once."""

from __future__ import annotations

import email
import re
from pathlib import Path

from portal.models import AuditEvent, User
from tests.conftest import login


def outbox_links(app) -> list[str]:
    links = []
    for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes())
        for part in msg.walk():  # other tests' invoice mails share the outbox
            if part.get_content_type() == "text/plain":
                body = part.get_payload(decode=True).decode()
                links += re.findall(r"http://[^\s]+/uitnodiging/[^\s]+", body)
    return links


def test_invite_a_new_user_who_sets_their_own_password(app, client, beheerder, db):
    before = set(outbox_links(app))
    resp = client.post(
        "/beheer/gebruikers/nieuw",
        data={
            "naam": "Ida Uitgenodigd",
            "email": "ida@zorg.nl",
            "role": "backoffice",
            "uitnodigen": "1",
            "password": "",
        },
    )
    assert resp.status_code == 302
    [link] = [x for x in outbox_links(app) if x not in before]
    path = link.split("://", 1)[1].partition("/")[2]
    invitee = app.test_client()
    # No password was given, so there is none to guess.
    assert login(invitee, "ida@zorg.nl", "").status_code == 401
    page = invitee.get(f"/{path}")
    assert page.status_code == 200 and "Ida Uitgenodigd" in page.get_data(as_text=True)
    weak = invitee.post(f"/{path}", data={"password": "aaaaaaaaaaa1", "password2": "aaaaaaaaaaa1"})
    assert weak.status_code == 422 and "te eenvoudig" in weak.get_data(as_text=True)
    ok = invitee.post(
        f"/{path}", data={"password": "Ida-kiest-zelf-2026", "password2": "Ida-kiest-zelf-2026"}
    )
    assert ok.status_code == 302
    assert login(invitee, "ida@zorg.nl", "Ida-kiest-zelf-2026").status_code == 302
    # The link works once.
    again = app.test_client().get(f"/{path}")
    assert again.status_code == 400 and "al gebruikt" in again.get_data(as_text=True)
    user = db.query(User).filter_by(email="ida@zorg.nl").one()
    actions = {e.action for e in db.query(AuditEvent).filter_by(object_id=str(user.id))}
    assert {"gebruiker.uitgenodigd", "gebruiker.uitnodiging-gebruikt"} <= actions


def test_a_new_invitation_replaces_the_old_link(app, client, beheerder, make_user):
    user = make_user("backoffice")
    before = set(outbox_links(app))
    client.post(f"/beheer/gebruikers/{user.id}/uitnodigen")
    [first] = [x for x in outbox_links(app) if x not in before]
    client.post(f"/beheer/gebruikers/{user.id}/uitnodigen")
    [second] = [x for x in outbox_links(app) if x not in before and x != first]
    c = app.test_client()
    assert c.get("/" + first.split("://", 1)[1].partition("/")[2]).status_code == 400
    assert c.get("/" + second.split("://", 1)[1].partition("/")[2]).status_code == 200


def test_a_forged_link_is_refused(client):
    resp = client.get("/uitnodiging/eyJ1IjoxLCJ2IjoxfQ.nep.nep")
    assert resp.status_code == 400 and "niet geldig" in resp.get_data(as_text=True)

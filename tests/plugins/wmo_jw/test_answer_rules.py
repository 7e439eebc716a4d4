"""A 319 is judged against the request it answers (TR355, TR359, TR360, TR365): a broken answer
gets the rule's retourcode on its Antwoord in our 320 and leaves the request as it was."""

from __future__ import annotations

from sqlalchemy import select

from plugins.wmo_jw import chain, financier, verzoeken
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IWMO
from portal.models import Verzoek
from tests.plugins.wmo_jw.factories import AGB, GEMEENTE, TODAY


def _answer(db, referentie: str, antwoord: str, reden: str | None):
    draft = financier.antwoord_319(IWMO, GEMEENTE, AGB, referentie, antwoord, reden, today=TODAY)
    outcome = chain.process(db, draft.payload, today=TODAY)
    db.commit()
    (reply,) = outcome.replies
    retour = m.parse(reply.payload)
    assert retour.kind == "320"
    return outcome, draft, (retour.antwoord.retourcodes if retour.antwoord else [])


def _request(db, setup) -> Verzoek:
    from tests.plugins.wmo_jw.test_requests import _form_315

    verzoek = verzoeken.send_315(db, setup["legs"]["5001"].client, _form_315(setup), today=TODAY)
    db.commit()
    return verzoek


def test_an_answer_to_no_request_of_ours_gets_9355(db, setup):
    outcome, _draft, codes = _answer(db, "ONBEKEND-1", "2", None)
    assert codes == ["9355"] and outcome.needs_action
    assert [i.code for i in outcome.issues] == ["9355"]


def test_in_onderzoek_then_refused_is_fine_but_not_twice_in_onderzoek_9360(db, setup):
    verzoek = _request(db, setup)
    outcome, first, codes = _answer(db, verzoek.referentie, "2", None)
    assert codes == [] and outcome.issues == []
    db.refresh(verzoek)
    assert verzoek.status == "in_onderzoek"
    # the same 319 offered again is not a second answer
    again = chain.process(db, first.payload, today=TODAY)
    assert again.issues == []
    # a second 'in onderzoek': 9360, the request stays in onderzoek
    outcome, _draft, codes = _answer(db, verzoek.referentie, "2", None)
    assert codes == ["9360"] and outcome.needs_action
    # then a refusal is allowed
    outcome, _draft, codes = _answer(db, verzoek.referentie, "1", "7")
    assert codes == []
    db.refresh(verzoek)
    assert verzoek.status == "afgewezen"
    # and after a refusal no further answer (9365)
    outcome, _draft, codes = _answer(db, verzoek.referentie, "1", "7")
    assert codes == ["9365"]


def test_no_answer_after_the_request_was_granted_9359(db, setup):
    verzoek = _request(db, setup)
    verzoek.status = "toegekend"  # a 301 carried its ReferentieAanbieder (TR379)
    db.commit()
    outcome, _draft, codes = _answer(db, verzoek.referentie, "1", "7")
    assert codes == ["9359"] and outcome.needs_action
    assert db.scalar(select(Verzoek)).status == "toegekend"

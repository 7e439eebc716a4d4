"""The stand-in's lifecycle engine: the chain check, moving messages through the v3 statuses, the
simulated financier's answer (hook ``financier_reply``), and the JSON shapes of the API."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from typing import Any

from flask import Flask
from lxml import etree

from portal.vecozo.client import PULL_PATH
from portal.vecozo.standin.store import Store, now_iso

log = logging.getLogger("portal.vecozo.standin.app")


def chain_check(payload: bytes) -> list[dict[str, str]]:
    """The stand-in's generic ketencontrole (structure only; it knows no standard)."""
    if payload.lstrip()[:1] == b"<":
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            etree.fromstring(payload, parser)
        except etree.XMLSyntaxError as exc:
            return [
                {
                    "code": "KC01",
                    "omschrijving": "Het bericht is geen welgevormde XML.",
                    "toelichting": str(exc)[:250] or "XML-fout",
                }
            ]
        return []
    if not payload.endswith(b"\r\n") or b"\n" in payload.replace(b"\r\n", b""):
        return [
            {
                "code": "KC02",
                "omschrijving": "Elk record moet eindigen met CR/LF.",
            }
        ]
    lengths = {len(r) for r in payload[:-2].split(b"\r\n")}
    if len(lengths) > 1:
        return [
            {
                "code": "KC03",
                "omschrijving": "Niet alle records hebben dezelfde lengte.",
                "toelichting": "Gevonden lengtes: " + ", ".join(map(str, sorted(lengths))),
            }
        ]
    return []


def metadata_of(row, base: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"conversatieId": row["conversatie_id"], "traceerId": row["traceer_id"]}
    if row["als_antwoord_op"]:
        ref["alsAntwoordOp"] = row["als_antwoord_op"]
    if row["referentie_id"]:
        ref["referentieId"] = row["referentie_id"]
    afzender = {"rol": row["afzender_rol"]}
    if row["afzender_code"]:
        afzender["code"] = row["afzender_code"]
    data: dict[str, Any] = {
        "basisgegevens": {
            "ontvangenOp": row["ontvangen_op"],
            "payload": {
                "url": f"{base}{PULL_PATH}/berichten/{row['traceer_id']}/payload",
                "grootte": row["grootte"],
                "checksum": {"algoritme": "SHA256", "waarde": row["sha256"]},
            },
        },
        "routeringgegevens": {
            "afzender": afzender,
            "geadresseerden": json.loads(row["geadresseerden"]),
            "berichtstroom": json.loads(row["berichtstroom"]),
        },
        "referentiegegevens": ref,
    }
    if row["verwerkingscontext"]:
        data["verwerkingscontext"] = json.loads(row["verwerkingscontext"])
    return data


def status_of(row) -> dict[str, Any]:
    ref: dict[str, Any] = {"conversatieId": row["conversatie_id"], "traceerId": row["traceer_id"]}
    if row["als_antwoord_op"]:
        ref["alsAntwoordOp"] = row["als_antwoord_op"]
    if row["referentie_id"]:
        ref["referentieId"] = row["referentie_id"]
    data: dict[str, Any] = {
        "referentiegegevens": ref,
        "berichtstroom": json.loads(row["berichtstroom"]),
        "berichtstatus": row["status"],
        "berichtstatusGewijzigdOp": row["status_op"],
        "berichtOntvangenOp": row["ontvangen_op"],
    }
    meldingen = json.loads(row["meldingen"] or "[]")
    if meldingen:
        data["meldingen"] = meldingen
    return data


def advance(app: Flask, store: Store, now: float | None = None) -> int:
    """Move every message whose next step is due; returns how many steps were taken."""
    now = time.time() if now is None else now
    chain = float(app.config["STANDIN_CHAIN_DELAY"])
    fetch = float(app.config["STANDIN_FETCH_DELAY"])
    steps = 0
    with store.write() as db:
        for row in store.due(db, now):
            steps += 1
            tid, status = row["traceer_id"], row["status"]
            if status == "Ontvangen":
                store.set_status(db, tid, "WordtVerwerkt", stap_op=now + chain / 2)
            elif status == "WordtVerwerkt":
                meldingen = chain_check(bytes(row["payload"]))
                forced = store.take_fault("ketenafkeur", db)
                if forced and not meldingen:
                    meldingen = [
                        {
                            "code": forced.get("code") or "KC99",
                            "omschrijving": "Afgekeurd in de ketencontrole (storingsschakelaar).",
                        }
                    ]
                if meldingen:
                    store.set_status(
                        db, tid, "AfgekeurdDoorDienst", stap_op=None, meldingen=meldingen
                    )
                    store.bump(db, "afgekeurd")
                else:
                    store.set_status(db, tid, "VerwerkingVoltooid", stap_op=None)
                    store.set_status(db, tid, "WordtAangeboden", stap_op=now + fetch)
            elif status == "WordtAangeboden" and row["herkomst"] == "ingediend":
                # the simulated financier fetches the message and (maybe) answers it
                store.set_status(db, tid, "Bezorgd", stap_op=None)
                db.execute(
                    "UPDATE bericht SET opgehaald = 1, keer_opgehaald = keer_opgehaald + 1 "
                    "WHERE traceer_id = ?",
                    (tid,),
                )
                _financier_answers(app, store, db, row)
            else:
                db.execute("UPDATE bericht SET stap_op = NULL WHERE traceer_id = ?", (tid,))
    return steps


def _financier_answers(app: Flask, store: Store, db, row) -> None:
    from portal.vecozo.berichtstromen import berichtstroom_for

    try:
        drafts = app.extensions["hooks"].financier_reply(bytes(row["payload"]))
    except Exception:
        log.exception("financier_reply failed for %s", row["traceer_id"])
        store.bump(db, "financier_fout")
        return
    if drafts is None:
        store.bump(db, "niet_beantwoord")
        return
    heen_stroom = json.loads(row["berichtstroom"])
    for draft in drafts:
        stroom = berichtstroom_for(draft.code) or {
            **heen_stroom,
            "berichtsubtype": (draft.code or "Retour")[:60],
            "actie": "Retour",
        }
        afzender = draft.afzender or (row["mailbox_rol"], row["mailbox"])
        geadresseerde = draft.geadresseerde or (row["afzender_rol"], row["afzender_code"])
        insert_ready(
            store,
            db,
            payload=bytes(draft.payload),
            afzender=afzender,
            geadresseerde=geadresseerde,
            berichtstroom=stroom,
            conversatie_id=draft.conversation_id or row["conversatie_id"],
            als_antwoord_op=draft.answers_to or row["traceer_id"],
            referentie_id=draft.reference,
            herkomst="financier",
        )
        store.bump(db, "antwoorden")


def insert_ready(
    store: Store,
    db,
    *,
    payload: bytes,
    afzender: tuple[str, str | None],
    geadresseerde: tuple[str, str],
    berichtstroom: dict[str, Any],
    conversatie_id: str | None = None,
    als_antwoord_op: str | None = None,
    referentie_id: str | None = None,
    herkomst: str = "geplaatst",
) -> str:
    """Put a message ready for pulling in the mailbox of ``geadresseerde``."""
    tid = str(uuid.uuid4())
    op = now_iso()
    store.insert(
        db,
        {
            "traceer_id": tid,
            "conversatie_id": conversatie_id or str(uuid.uuid4()),
            "als_antwoord_op": als_antwoord_op,
            "referentie_id": (referentie_id or None) and str(referentie_id)[:150],
            "afzender_rol": afzender[0],
            "afzender_code": afzender[1],
            "mailbox_rol": geadresseerde[0],
            "mailbox": geadresseerde[1],
            "geadresseerden": [{"rol": geadresseerde[0], "code": geadresseerde[1]}],
            "berichtstroom": berichtstroom,
            "payload": payload,
            "grootte": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "herkomst": herkomst,
            "ontvangen_op": op,
            "status": "Ontvangen",
            "status_op": op,
            "stap_op": None,
        },
    )
    store.set_status(db, tid, "VerwerkingVoltooid", stap_op=None)
    store.set_status(db, tid, "WordtAangeboden", stap_op=None)
    return tid

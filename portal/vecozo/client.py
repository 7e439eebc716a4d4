"""The VSP-Koppeling client: push v1 (submit), pull v1 (list, search, download, acknowledge) and
berichtstatus v3, over mutual TLS with the organisation's system certificate.

Errors are split by what the caller must do next:

* :class:`VecozoRejected` — VECOZO answered 400/422: the request is wrong; sending it again
  unchanged is pointless (422: "indiener probeert hetzelfde request niet opnieuw").
* :class:`VecozoUnavailable` — time-out, connection error, 5xx: the outcome is unknown. For a
  submit the caller must ask the status API before anything else, never simply send again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PUSH_PATH = "/berichtenservice/berichten/rest-push/v1"
PULL_PATH = "/berichtenservice/berichten/rest-pull/v1"
STATUS_PATH = "/berichtenservice/berichtstatus/rest-pull/v3"

# Host part per environment; the API paths are the same everywhere (see contracts/SOURCES.md).
ENVIRONMENTS: dict[str, str] = {
    "productie": "https://api.vecozo.nl",
    "acceptatie": "https://tst-api.vecozo.nl/acc",
    "test": "https://tst-api.vecozo.nl/tst",
    "standin": "http://127.0.0.1:5001",
}
ENVIRONMENT_LABELS = {
    "productie": "Productie",
    "acceptatie": "Acceptatie",
    "test": "Test",
    "standin": "Stand-in (lokale oefenomgeving)",
}
MAX_PAYLOAD_BYTES = 100 * 1024 * 1024
PULL_LIMIT_MAX = 250


class VecozoError(Exception):
    pass


class VecozoUnavailable(VecozoError):
    """No usable answer: time-out, connection trouble, or a 5xx. The outcome is unknown."""


class VecozoRejected(VecozoError):
    """VECOZO refused the request (400 or 422) and said why."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        super().__init__(f"{status}: {problem.get('title') or problem.get('detail') or problem}")

    @property
    def meldingen(self) -> list[dict[str, str]]:
        """The problem's field errors as meldingen (code = field, omschrijving = text)."""
        result = []
        for fieldname, texts in (self.problem.get("errors") or {}).items():
            for text in texts or []:
                result.append({"code": str(fieldname), "omschrijving": str(text)})
        if not result:
            result.append(
                {
                    "code": str(self.problem.get("title") or self.status),
                    "omschrijving": str(self.problem.get("detail") or "Afgewezen door VECOZO"),
                }
            )
        return result


class VecozoConfigError(VecozoError):
    """Something the beheerder must fix (no certificate, unknown environment)."""


@dataclass
class VecozoClient:
    base_url: str
    timeout: float = 30.0
    cert: tuple[str, str] | None = None
    verify: bool | str = True
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.http.cert = self.cert
        self.http.verify = self.verify
        self.http.headers["User-Agent"] = "Declaratieportaal"

    # -- helpers ---------------------------------------------------------------------------

    @property
    def push_url(self) -> str:
        return self.base_url + PUSH_PATH

    @property
    def pull_url(self) -> str:
        return self.base_url + PULL_PATH

    @property
    def status_url(self) -> str:
        return self.base_url + STATUS_PATH

    def _timeouts(self) -> tuple[float, float]:
        return (min(10.0, self.timeout), self.timeout)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            # verify/cert per request: requests would otherwise let REQUESTS_CA_BUNDLE win
            resp = self.http.request(
                method, url, timeout=self._timeouts(), verify=self.verify, cert=self.cert, **kwargs
            )
        except requests.Timeout as exc:
            raise VecozoUnavailable(f"Time-out na {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise VecozoUnavailable(f"Verbinding mislukt: {exc}") from exc
        except requests.RequestException as exc:
            raise VecozoUnavailable(f"Verzoek mislukt: {exc}") from exc
        if resp.status_code >= 500:
            raise VecozoUnavailable(f"VECOZO gaf een serverfout ({resp.status_code})")
        if resp.status_code in (400, 422):
            raise VecozoRejected(resp.status_code, _problem(resp))
        return resp

    # -- push ------------------------------------------------------------------------------

    def submit(self, metadata: dict[str, Any], payload: bytes, filename: str = "bericht") -> None:
        """POST /berichten (multipart): returns on 204, raises otherwise."""
        files = {
            "berichtMetadata": (None, json.dumps(metadata), "application/json"),
            "payload": (filename, payload, "application/octet-stream"),
        }
        resp = self._request("POST", self.push_url + "/berichten", files=files)
        if resp.status_code != 204:
            raise VecozoUnavailable(f"Onverwacht antwoord {resp.status_code} op verzenden")

    # -- pull ------------------------------------------------------------------------------

    def list_ready(self, limit: int = PULL_LIMIT_MAX) -> list[dict[str, Any]]:
        """The oldest messages ready for us (metadata only)."""
        resp = self._request("GET", self.pull_url + "/berichten", params={"limit": _limit(limit)})
        return _json_list(resp)

    def search(self, zoekpad: dict[str, Any], limit: int = PULL_LIMIT_MAX) -> list[dict[str, Any]]:
        """POST /berichten/zoeken with a Zoekpad (berichtstroom, conversatieId, alsAntwoordOp)."""
        resp = self._request(
            "POST",
            self.pull_url + "/berichten/zoeken",
            params={"limit": _limit(limit)},
            json=zoekpad,
        )
        return _json_list(resp)

    def search_answers(self, traceer_id: str) -> list[dict[str, Any]]:
        return self.search({"zoekpadType": "ZoekpadOpAlsAntwoordOp", "alsAntwoordOp": traceer_id})

    def download(self, metadata: dict[str, Any]) -> bytes:
        """The payload of a listed message, checked against its announced size and SHA-256.

        Only URLs under our own pull base are followed (a listed URL elsewhere is not trusted).
        Raises :class:`VecozoUnavailable` when the payload is not (fully) available.
        """
        from portal.services.messages import verify_payload

        traceer_id = metadata["referentiegegevens"]["traceerId"]
        download = (metadata.get("basisgegevens") or {}).get("payload") or {}
        url = download.get("url") or ""
        own = f"{self.pull_url}/berichten/{traceer_id}/payload"
        if not _same_origin(url, self.pull_url):
            url = own
        size = int(download.get("grootte") or 0)
        if size > MAX_PAYLOAD_BYTES:
            raise VecozoRejected(413, {"title": f"Bericht te groot ({size} bytes)"})
        resp = self._request("GET", url, stream=True)
        if resp.status_code == 404:
            raise VecozoUnavailable("Bericht is niet (meer) beschikbaar")
        if resp.status_code != 200:
            raise VecozoUnavailable(f"Onverwacht antwoord {resp.status_code} op downloaden")
        limit = (size or MAX_PAYLOAD_BYTES) + 1
        chunks, received = [], 0
        try:
            for chunk in resp.iter_content(65536):
                received += len(chunk)
                if received > limit:
                    break
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise VecozoUnavailable(f"Download afgebroken: {exc}") from exc
        finally:
            resp.close()
        data = b"".join(chunks)
        verify_payload(metadata, data)
        return data

    def acknowledge(self, traceer_id: str) -> bool:
        """DELETE /berichten/{traceerId}: True when acknowledged now, False when already gone."""
        resp = self._request("DELETE", f"{self.pull_url}/berichten/{traceer_id}")
        if resp.status_code in (200, 202, 204):
            return True
        if resp.status_code == 404:
            return False
        raise VecozoUnavailable(f"Onverwacht antwoord {resp.status_code} op bevestigen")

    # -- status ----------------------------------------------------------------------------

    def statuses(
        self, *, traceer_id: str | None = None, conversatie_id: str | None = None
    ) -> list[dict[str, Any]]:
        """GET /berichtstatussen by exactly one of traceerId or conversatieId."""
        if (traceer_id is None) == (conversatie_id is None):
            raise ValueError("give exactly one of traceer_id or conversatie_id")
        params = {"traceerId": traceer_id} if traceer_id else {"conversatieId": conversatie_id}
        resp = self._request("GET", self.status_url + "/berichtstatussen", params=params)
        return _json_list(resp)

    def close(self) -> None:
        self.http.close()


def _limit(limit: int) -> int:
    return max(1, min(PULL_LIMIT_MAX, int(limit)))


def _problem(resp: requests.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {"title": resp.text[:500] or resp.reason}
    return data if isinstance(data, dict) else {"title": str(data)[:500]}


def _json_list(resp: requests.Response) -> list[dict[str, Any]]:
    if resp.status_code != 200:
        raise VecozoUnavailable(f"Onverwacht antwoord {resp.status_code}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise VecozoUnavailable("Antwoord van VECOZO is geen JSON") from exc
    if not isinstance(data, list):
        raise VecozoUnavailable("Antwoord van VECOZO is geen lijst")
    return data


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.path.startswith(b.path)


def base_url(config: dict[str, Any]) -> str:
    """VECOZO_BASE_URL when set, else the host of VECOZO_ENVIRONMENT."""
    if config.get("VECOZO_BASE_URL"):
        return str(config["VECOZO_BASE_URL"])
    env = config.get("VECOZO_ENVIRONMENT") or "standin"
    if env not in ENVIRONMENTS:
        raise VecozoConfigError(f"Onbekende VECOZO-omgeving {env!r}")
    return ENVIRONMENTS[env]


@contextmanager
def client_for(app: Flask, session: Session) -> Iterator[VecozoClient]:
    """A client for this installation: its base URL, time-out and system certificate.

    The certificate is required for every environment except a stand-in over plain http.
    """
    from portal.vecozo.certificates import active_certificate, key_pair, pem_files

    config = app.config
    url = base_url(config)
    verify: bool | str = config.get("VECOZO_CA_BUNDLE") or True
    timeout = float(config.get("VECOZO_TIMEOUT_SECONDS") or 30)
    row = active_certificate(session)
    if row is None:
        if url.startswith("https://"):
            raise VecozoConfigError(
                "Er is geen VECOZO-systeemcertificaat ingesteld. Een beheerder kan het uploaden "
                "bij Berichten → Instellingen."
            )
        client = VecozoClient(url, timeout=timeout, verify=verify)
        try:
            yield client
        finally:
            client.close()
        return
    pair = key_pair(row)
    with pem_files(pair) as cert:
        client = VecozoClient(url, timeout=timeout, cert=cert, verify=verify)
        try:
            yield client
        finally:
            client.close()


def build_metadata(message: Any) -> dict[str, Any]:
    """The push BerichtMetadata for a stored outgoing message."""
    if not message.berichtstroom:
        raise VecozoConfigError(
            f"Voor berichtcode {message.code!r} is geen VECOZO-berichtstroom ingesteld."
        )
    if not (message.afzender_rol and message.afzender_code):
        raise VecozoConfigError("De afzender (rol en AGB-code) van het bericht ontbreekt.")
    if not (message.geadresseerde_rol and message.geadresseerde_code):
        raise VecozoConfigError("De geadresseerde (rol en code) van het bericht ontbreekt.")
    ref: dict[str, Any] = {
        "conversatieId": message.conversatie_id,
        "traceerId": message.traceer_id,
    }
    if message.als_antwoord_op:
        ref["alsAntwoordOp"] = message.als_antwoord_op
    if message.reference:
        ref["referentieId"] = str(message.reference)[:150]
    return {
        "routeringgegevens": {
            "afzender": {"rol": message.afzender_rol, "code": message.afzender_code},
            "geadresseerden": [
                {"rol": message.geadresseerde_rol, "code": message.geadresseerde_code}
            ],
            "berichtstroom": dict(message.berichtstroom),
        },
        "referentiegegevens": ref,
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

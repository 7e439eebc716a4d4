"""A small client of the Declaratieportaal API: push registrations from a CSV file and print
what happened to them. Standard library only, so an ECD team can read it in one go.

    python portaal_client.py --url https://portaal.example.nl --token dpk_... registraties.csv

The CSV (``;`` or ``,``, UTF-8, header row) has the columns extern_id, medewerker, client,
product, datum (jjjj-mm-dd), starttijd (uu:mm), duur_minuten and/or aantal, opmerking (optional).
Sending the same file again is safe: the portal knows each ``extern_id`` and stores nothing twice.
The token needs the scopes ``registraties:schrijven`` and ``statussen:lezen``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import urllib.error
import urllib.request

BATCH = 1000


class Portaal:
    def __init__(self, url: str, token: str):
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:  # a problem+json answer
            return err.code, json.loads(err.read() or b"{}")


def read_csv(text: str) -> list[dict]:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    rows = []
    for row in csv.DictReader(io.StringIO(text), delimiter=delimiter):
        item = {k: (v or "").strip() for k, v in row.items() if k}
        out = {k: item[k] for k in ("extern_id", "medewerker", "client", "product", "datum",
                                    "starttijd") if k in item}  # fmt: skip
        for number in ("duur_minuten", "aantal"):
            if item.get(number):
                out[number] = int(item[number])
        if item.get("opmerking"):
            out["opmerking"] = item["opmerking"]
        rows.append(out)
    return rows


def push(portaal: Portaal, rows: list[dict], out=None) -> int:
    """Send in batches (per registration: what fits is stored); print each refusal."""
    out = out or sys.stdout
    refused = 0
    for start in range(0, len(rows), BATCH):
        status, body = portaal.call(
            "POST",
            "/registraties/batch",
            {"modus": "per_registratie", "registraties": rows[start : start + BATCH]},
        )
        if status != 200:
            print(f"Aanlevering geweigerd ({status}): {body.get('detail')}", file=out)
            for fout in body.get("fouten") or []:
                print(f"  {fout['veld']}: {fout['reden']}", file=out)
            return len(rows)
        print(
            f"Regels {start + 1}-{start + len(rows[start : start + BATCH])}: "
            f"{body['opgeslagen']} opgeslagen, {body['al_ontvangen']} al ontvangen, "
            f"{body['geweigerd']} geweigerd",
            file=out,
        )
        for result in body["resultaten"]:
            for fout in result["fouten"]:
                refused += 1
                print(f"  {result['extern_id']}: {fout['veld']}: {fout['reden']}", file=out)
    return refused


def print_statuses(portaal: Portaal, extern_ids: list[str], out=None) -> None:
    out = out or sys.stdout
    for start in range(0, len(extern_ids), 1000):
        status, body = portaal.call(
            "POST", "/registraties/status", {"extern_ids": extern_ids[start : start + 1000]}
        )
        if status != 200:
            print(f"Statussen niet gelezen ({status}): {body.get('detail')}", file=out)
            return
        for reg in body["registraties"]:
            parts = ", ".join(
                f"{p['financiering'] or 'niet gedekt'} {p['minuten']} min"
                for p in reg["financiering"]
            )
            lines = "; ".join(
                f"{line['referentie']} {line['status']}"
                + "".join(f" [{c['code']} {c['betekenis']}]" for c in line["retourcodes"])
                for line in reg["declaratieregels"]
            )
            print(
                f"{reg['extern_id']}: {reg['status_omschrijving']}"
                + (f"; betaald door {parts}" if parts else "")
                + (f"; declaratie {lines}" if lines else ""),
                file=out,
            )
        for ext in body["onbekend"]:
            print(f"{ext}: onbekend bij het portaal", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("csv")
    args = parser.parse_args(argv)
    with open(args.csv, encoding="utf-8-sig") as f:
        rows = read_csv(f.read())
    portaal = Portaal(args.url, args.token)
    refused = push(portaal, rows)
    print_statuses(portaal, [r["extern_id"] for r in rows if r.get("extern_id")])
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())

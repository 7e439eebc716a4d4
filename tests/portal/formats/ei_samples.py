"""Records for a small, valid AW319 v1.4 file (two clients, three prestaties, one credit line)."""

from __future__ import annotations

from datetime import date


def header(**extra) -> tuple[str, dict]:
    values = {
        "0102": 187,
        "0103": 1,
        "0104": 4,
        "0105": "T",
        "0108": 5501,
        "0112": 41000017,
        "0113": 4,
        "0114": date(2026, 1, 1),
        "0115": date(2026, 1, 31),
        "0116": "F2026-0001",
        "0117": date(2026, 2, 2),
        "0119": "EUR",
    }
    values.update(extra)
    return "01", values


def client(bsn: str, name: str, **extra) -> tuple[str, dict]:
    values = {
        "0203": bsn,
        "0204": 5501,
        "0207": date(1940, 5, 17),
        "0208": 2,
        "0209": 1,
        "0210": name,
        "0215": "A",
        "0223": 2,
        "0224": 1234,
        "0225": "CIZ-778",
    }
    values.update(extra)
    return "02", values


def prestatie(bsn: str, ref: str, amount: int, **extra) -> tuple[str, dict]:
    quantity = extra.pop("quantity", 1)
    values = {
        "0403": bsn,
        "0404": 5501,
        "0407": 1,
        "0408": 1234,
        "0409": "CIZ-778",
        "0414": date(2026, 1, 5),
        "0415": date(2026, 1, 11),
        "0416": "055",
        "0417": "Z0041",
        "0418": quantity,
        "0419": 14,
        "0420": 41000017,
        "0425": abs(amount) // quantity,
        "0426": amount,
        "0429": amount,
        "0431": ref,
    }
    values.update(extra)
    return "04", values


def valid_records() -> list[tuple[str, dict]]:
    return [
        header(),
        client("999999990", "Jansen"),
        prestatie("999999990", "REF-0001", 3 * 15000, quantity=3),
        ("98", {"9803": 1, "9804": "Opname in week 2"}),
        prestatie("999999990", "REF-0002", -15000, **{"0432": "REF-0000"}),
        client("111222333", "De Vries", **{"0224": 0, "0225": ""}),
        prestatie("111222333", "REF-0003", 2 * 9950, quantity=2, **{"0408": 0, "0409": ""}),
    ]

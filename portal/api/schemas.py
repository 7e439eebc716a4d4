"""The API's request and response bodies (pydantic). The OpenAPI document is generated from
these (spectree). Requests refuse unknown fields and wrong types: a string is never read as a
number, a number never as a date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_BATCH = 5000


def _iso_date_text(value: Any) -> Any:
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "Verwacht een datum als jjjj-mm-dd.")
    return value


Datum = Annotated[date, BeforeValidator(_iso_date_text)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- problems ---------------------------------------------------------------------------------


class Fout(Out):
    veld: str = Field(description="Het veld (pad in de JSON), bijvoorbeeld registraties.3.datum")
    reden: str = Field(description="Waarom het geweigerd is, in het Nederlands")


class Probleem(Out):
    """RFC 9457 problem details; ``detail`` is Nederlands."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str
    fouten: list[Fout] | None = None


# -- clients and legitimations ----------------------------------------------------------------


class ClientZoeken(In):
    bsn: StrictStr = Field(max_length=20, description="BSN (9 cijfers, 11-proef)")


class ClientVelden(In):
    clientnummer: StrictStr | None = Field(None, max_length=30)
    voorletters: StrictStr | None = Field(None, max_length=20)
    voornamen: StrictStr | None = Field(None, max_length=200)
    tussenvoegsel: StrictStr | None = Field(None, max_length=20)
    achternaam: StrictStr | None = Field(None, max_length=200)
    geboortedatum: Datum | None = None
    geslacht: Literal["0", "1", "2"] | None = Field(
        None, description="0 onbekend, 1 man, 2 vrouw (COD046)"
    )
    straat: StrictStr | None = Field(None, max_length=200)
    huisnummer: StrictStr | None = Field(None, max_length=10)
    huisnummer_toevoeging: StrictStr | None = Field(None, max_length=10)
    postcode: StrictStr | None = Field(None, max_length=7)
    plaats: StrictStr | None = Field(None, max_length=100)
    email: StrictStr | None = Field(None, max_length=200)
    telefoon: StrictStr | None = Field(None, max_length=30)
    team: StrictStr | None = Field(None, max_length=100)
    actief: StrictBool | None = None
    opmerking: StrictStr | None = Field(None, max_length=2000)


class ClientNieuw(ClientVelden):
    bsn: StrictStr = Field(max_length=20)
    achternaam: StrictStr = Field(max_length=200)
    geboortedatum: Datum


class ClientWijziging(ClientVelden):
    """Alleen de meegestuurde velden veranderen."""


class ClientUit(Out):
    id: int
    bsn: str
    clientnummer: str | None
    voorletters: str | None
    voornamen: str | None
    tussenvoegsel: str | None
    achternaam: str
    geboortedatum: date
    geslacht: str
    straat: str | None
    huisnummer: str | None
    huisnummer_toevoeging: str | None
    postcode: str | None
    plaats: str | None
    email: str | None
    telefoon: str | None
    team: str | None
    actief: bool


class ClientLijst(Out):
    clienten: list[ClientUit]


class LegitimatieVelden(In):
    financing: StrictStr | None = Field(None, max_length=40, description="bijv. wlz, wmo_jw")
    financier_id: StrictInt | None = None
    begindatum: Datum | None = None
    einddatum: Datum | None = None
    volume: StrictInt | None = None
    eenheid: StrictStr | None = Field(None, max_length=10)
    frequentie: StrictStr | None = Field(None, max_length=10)
    budget_cents: StrictInt | None = None
    tarief_cents: StrictInt | None = None
    priority: StrictInt | None = None
    productcategorie: StrictStr | None = Field(None, max_length=10)
    productcode: StrictStr | None = Field(None, max_length=10)
    toewijzingnummer: StrictStr | None = Field(None, max_length=20)
    referentienummer: StrictStr | None = Field(None, max_length=40)
    opmerking: StrictStr | None = Field(None, max_length=2000)
    producten: list[Annotated[StrictStr, Field(max_length=20)]] | None = Field(
        None, max_length=100, description="Codes van eigen producten"
    )
    sleutels: dict[str, Annotated[StrictStr, Field(max_length=200)]] | None = Field(
        None, description="Eigen velden van de financiering (bijv. PGB 'wet')"
    )


class LegitimatieNieuw(LegitimatieVelden):
    financing: StrictStr = Field(max_length=40)
    financier_id: StrictInt
    begindatum: Datum
    producten: list[Annotated[StrictStr, Field(max_length=20)]] = Field(max_length=100)


class LegitimatieWijziging(LegitimatieVelden):
    """Alleen de meegestuurde velden veranderen."""


class LegitimatieUit(Out):
    id: int
    client_id: int
    financing: str
    financier_id: int
    begindatum: date
    einddatum: date | None
    volume: int | None
    eenheid: str | None
    frequentie: str | None
    budget_cents: int | None
    tarief_cents: int | None
    priority: int
    productcategorie: str | None
    productcode: str | None
    toewijzingnummer: str | None
    status: str
    bron: str
    producten: list[str]
    waarschuwingen: list[str] = []


class LegitimatieLijst(Out):
    legitimaties: list[LegitimatieUit]


# -- registrations in -------------------------------------------------------------------------


class RegistratieIn(In):
    extern_id: StrictStr = Field(
        min_length=1, max_length=100, description="Het eigen id van de zender (idempotentie)"
    )
    medewerker: StrictStr = Field(max_length=200, description="E-mailadres van de medewerker")
    client: StrictStr = Field(max_length=30, description="Cliëntnummer of BSN")
    product: StrictStr = Field(max_length=20, description="Code van het eigen product")
    datum: Datum
    starttijd: StrictStr = Field(max_length=5, description="uu:mm")
    duur_minuten: StrictInt | None = Field(None, description="Voor producten in tijd")
    aantal: StrictInt | None = Field(None, description="Voor producten in andere eenheden")
    opmerking: StrictStr | None = Field(None, max_length=2000)


class RegistratiesIn(In):
    modus: Literal["alles_of_niets", "per_registratie"] = Field(
        "alles_of_niets",
        description="alles_of_niets: één weigering en niets wordt opgeslagen; "
        "per_registratie: wat klopt wordt opgeslagen",
    )
    registraties: list[RegistratieIn] = Field(min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="before")
    @classmethod
    def _size(cls, data: Any) -> Any:
        items = data.get("registraties") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > MAX_BATCH:
            raise PydanticCustomError(
                "dp_batch_te_groot",
                "{reason}",
                {
                    "reason": f"Te veel registraties in één aanlevering: {len(items)}; hoogstens "
                    f"{MAX_BATCH}. Splits de aanlevering; er is niets opgeslagen."
                },
            )
        return data


class Melding(Out):
    veld: str
    reden: str


class RegistratieResultaat(Out):
    index: int = Field(description="Positie in de aanlevering (vanaf 0)")
    extern_id: str
    status: Literal["opgeslagen", "al_ontvangen", "geweigerd", "niet_opgeslagen"]
    registratie_id: int | None = None
    fouten: list[Melding] = []
    waarschuwingen: list[Melding] = []


class RegistratiesUit(Out):
    modus: str
    opgeslagen: int
    al_ontvangen: int
    geweigerd: int
    niet_opgeslagen: int
    resultaten: list[RegistratieResultaat]


class RegistratieGeweigerd(Probleem):
    resultaten: list[RegistratieResultaat] | None = None


# -- statuses out -----------------------------------------------------------------------------


class Code(Out):
    code: str
    betekenis: str


class Declaratieregel(Out):
    id: int
    referentie: str
    financiering: str
    financier: str | None
    client_id: int
    productcode: str | None
    begindatum: date
    einddatum: date
    volume: int
    eenheid: str
    bedrag_cents: int
    debet_credit: str
    status: str = Field(description="concept, ingediend, toegekend, afgewezen, gecrediteerd")
    status_omschrijving: str
    retourcodes: list[Code]
    declaratie_id: int | None
    declaratie_nummer: str | None
    declaratie_status: str | None
    ingediend_op: datetime | None
    beantwoord_op: datetime | None
    registratie_ids: list[int]
    gecrediteerd_door: int | None = None
    vervolg: str | None = Field(
        None,
        description="Wat er met een afgewezen regel is gedaan: opnieuw (gecorrigeerd, gaat "
        "opnieuw mee in een declaratie), particulier (de zorg is naar particulier verplaatst)",
    )
    vervolg_omschrijving: str | None = None


class Factuurregel(Out):
    factuur_id: int
    factuurnummer: str | None
    financiering: str
    status: str
    status_omschrijving: str
    factuurdatum: date
    vervaldatum: date
    betaald_op: date | None
    regel_bedrag_cents: int
    factuur_totaal_cents: int


class Deel(Out):
    financiering: str | None = Field(description="None: niet gedekt door een legitimatie")
    legitimatie_id: int | None
    minuten: int
    aantal: int


class RegistratieStatus(Out):
    id: int
    extern_id: str | None
    client_id: int
    product: str | None
    datum: date
    starttijd: str | None
    duur_minuten: int | None
    aantal: int | None
    status: str = Field(description="concept, gefiatteerd, gecrediteerd")
    status_omschrijving: str
    gefiatteerd_op: datetime | None
    waarschuwingen: list[dict[str, Any]]
    financiering: list[Deel] = Field(description="Stapelen: welke financiering betaalt welk deel")
    declaratieregels: list[Declaratieregel]
    factuurregels: list[Factuurregel]


class RegistratieZoeken(In):
    extern_ids: list[Annotated[StrictStr, Field(max_length=100)]] = Field(
        min_length=1, max_length=1000
    )


class RegistratieStatussen(Out):
    registraties: list[RegistratieStatus]
    onbekend: list[str] = Field(description="extern_ids die het portaal niet kent")


class Wijziging(Out):
    cursor: str
    soort: Literal["registratie", "declaratieregel", "factuur"]
    id: int
    status: str | None = Field(description="De status nu; null: bestaat niet meer")
    extern_id: str | None = None
    retourcodes: list[str] = []


class Wijzigingen(Out):
    wijzigingen: list[Wijziging]
    volgende: str = Field(description="De cursor voor de volgende vraag (na=...)")
    meer: bool


class WijzigingenVraag(In):
    na: str | None = Field(None, max_length=60, description="Cursor van de vorige vraag")
    limiet: int = Field(1000, ge=1, le=5000)

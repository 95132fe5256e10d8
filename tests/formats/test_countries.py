"""Country names and codes as UCDP and ACLED write them -> ISO 3166-1 alpha-2."""

from __future__ import annotations

import pycountry
import pytest

from app.formats import countries


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Russia (Soviet Union)", "RU"),
        ("Serbia (Yugoslavia)", "RS"),
        ("Yemen (North Yemen)", "YE"),
        ("DR Congo (Zaire)", "CD"),
        ("Cambodia (Kampuchea)", "KH"),
        ("Myanmar (Burma)", "MM"),
        ("Kingdom of eSwatini (Swaziland)", "SZ"),
        ("Macedonia, FYR", "MK"),
        ("North Macedonia", "MK"),
        ("Bosnia-Herzegovina", "BA"),
        ("Ivory Coast", "CI"),
        ("Zimbabwe (Rhodesia)", "ZW"),
        ("Madagascar (Malagasy)", "MG"),
        ("Vietnam (North Vietnam)", "VN"),
        ("Germany (Prussia)", "DE"),
        ("Surinam", "SR"),
        ("Turkey", "TR"),
        ("United States of America", "US"),
        ("Congo", "CG"),
        ("Syria", "SY"),
        ("Iran", "IR"),
        ("Laos", "LA"),
        # ACLED's spellings
        ("Democratic Republic of Congo", "CD"),
        ("Republic of Congo", "CG"),
        ("eSwatini", "SZ"),
        ("Kosovo", "XK"),
        ("Palestine", "PS"),
        ("United States", "US"),
        ("Russia", "RU"),
        # ISO's own names, matched leniently
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Réunion", "RE"),
        ("  Afghanistan ", "AF"),
        ("afghanistan", "AF"),
    ],
)
def test_names(name: str, code: str) -> None:
    assert countries.alpha2_from_name(name) == code


@pytest.mark.parametrize("name", ["", "Atlantis", "Yugoslavia (Serbia)", "Government of Syria"])
def test_unknown_names_are_none(name: str) -> None:
    assert countries.alpha2_from_name(name) is None


def test_every_explicit_code_is_an_iso_code() -> None:
    for table in (countries.GED_NAMES, countries.ACLED_NAMES, countries.DISPLAY_NAMES):
        for code in table.values() if table is not countries.DISPLAY_NAMES else table:
            assert code == "XK" or pycountry.countries.get(alpha_2=code) is not None, code


def test_numeric_codes() -> None:
    assert countries.alpha2_from_numeric("760") == "SY"
    assert countries.alpha2_from_numeric("4") == "AF"  # ACLED drops leading zeros
    assert countries.alpha2_from_numeric("004") == "AF"
    assert countries.alpha2_from_numeric("0") is None  # ACLED's Kosovo
    assert countries.alpha2_from_numeric("") is None
    assert countries.alpha2_from_numeric("999") is None
    assert countries.numeric_from_alpha2("AF") == "4"
    assert countries.numeric_from_alpha2("XK") is None


def test_display_names_follow_acled() -> None:
    assert countries.display_name("SY") == "Syria"
    assert countries.display_name("CD") == "Democratic Republic of Congo"
    assert countries.display_name("AF") == "Afghanistan"
    assert countries.display_name("XK") == "Kosovo"

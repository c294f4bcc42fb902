"""Places and links from files: strict validation (file, line, column), sizes,
targets, and the worked example of docs/places.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import upheaval
from country.helpers import run_and_show
from upheaval.results.places import place_summaries
from upheaval.scenario.country import lattice_side, read_country
from upheaval.scenario.loading import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "three-towns" / "three-towns.toml"

PLACES = """name,region,lat,lon,utc_offset,population,legitimacy
Zhanaozen,Mangystau,43.34,52.86,5,150000,0.6
Aktau,Mangystau,43.65,51.16,5,180000,
Atyrau,Atyrau,47.11,51.92,5,300000,
"""
LINKS = """from,to,mode,distance_km,travel_hours
Zhanaozen,Aktau,road,150,2.5
Aktau,Atyrau,rail,600,9
"""
SCENARIO = """
[country]
places = "places.csv"
links = "links.csv"
[world]
scale = 100.0
{extra}
"""


def write(tmp_path: Path, places: str = PLACES, links: str = LINKS, extra: str = "") -> Path:
    (tmp_path / "places.csv").write_text(places, "utf-8")
    (tmp_path / "links.csv").write_text(links, "utf-8")
    path = tmp_path / "c.toml"
    path.write_text(SCENARIO.format(extra=extra), "utf-8")
    return path


def error_of(tmp_path: Path, **kw: str) -> str:
    with pytest.raises(ScenarioError) as e:
        upheaval.load(write(tmp_path, **kw))
    return str(e.value)


def test_a_good_country_loads_with_its_overrides_and_sizes(tmp_path):
    sc = upheaval.load(write(tmp_path))
    assert sc.country.names == ("Zhanaozen", "Aktau", "Atyrau")
    assert sc.country.regions == ("Mangystau", "Atyrau")
    assert sc.country.place("Zhanaozen").overrides == (("legitimacy", 0.6),)
    assert sc.country.place("Aktau").overrides == ()
    assert [(link.a, link.b, link.mode) for link in sc.country.links] == [
        ("Zhanaozen", "Aktau", "road"),
        ("Aktau", "Atyrau", "rail"),
    ]
    sim = upheaval.Simulation(sc, seed=1)
    sides = [pl.params.world.width for pl in sim.places]
    # ⌈√(population / 100 / 0.7)⌉
    assert sides == [47, 51, 66]
    assert [pl.params.citizens.legitimacy for pl in sim.places] == [0.6, 0.82, 0.82]
    citizens = [pl.n_citizens() for pl in sim.places]
    assert citizens == [round(0.7 * s * s) for s in sides]
    # each within one lattice row of population / scale
    for c, pop, s in zip(citizens, (1500, 1800, 3000), sides, strict=True):
        assert pop <= c <= pop + 0.7 * 2 * s + 1


def test_lattice_side_has_a_floor():
    assert lattice_side(10, 1.0, 0.7, 20) == 20
    assert lattice_side(1_000_000, 1.0, 0.7, 20) == 1196
    assert lattice_side(1_000_000, 100.0, 0.7, 20) == 120


def test_the_same_country_inline_in_toml(tmp_path):
    text = """
[world]
scale = 100.0
[[country.places]]
name = "Zhanaozen"
region = "Mangystau"
lat = 43.34
lon = 52.86
utc_offset = 5
population = 150000
legitimacy = 0.6
[[country.places]]
name = "Aktau"
region = "Mangystau"
lat = 43.65
lon = 51.16
utc_offset = 5
population = 180000
[[country.links]]
from = "Zhanaozen"
to = "Aktau"
mode = "road"
distance_km = 150
travel_hours = 2.5
"""
    path = tmp_path / "inline.toml"
    path.write_text(text, "utf-8")
    sc = upheaval.load(path)
    assert sc.country.place("Zhanaozen").overrides == (("legitimacy", 0.6),)
    assert sc.country.links[0].distance_km == 150.0
    bad = text.replace("population = 180000", "population = -3")
    path.write_text(bad, "utf-8")
    with pytest.raises(ScenarioError, match=r"country\.places\[2\], column 'population'"):
        upheaval.load(path)


@pytest.mark.parametrize(
    ("places", "links", "expected"),
    [
        (
            PLACES.replace("300000", "0"),
            LINKS,
            "places.csv: line 4, column 'population': must be ≥ 1",
        ),
        (PLACES.replace("300000", "3e5x"), LINKS, "line 4, column 'population': expected a number"),
        (PLACES.replace("150000", "1.5"), LINKS, "line 2, column 'population': expected a whole"),
        (PLACES.replace("Aktau,Mangystau", "Zhanaozen,Mangystau"), LINKS, "line 3, column 'name'"),
        (PLACES.replace("43.65", "93.65"), LINKS, "line 3, column 'lat': a latitude"),
        (PLACES.replace("51.16", "181"), LINKS, "line 3, column 'lon'"),
        (PLACES.replace(",5,180000", ",15,180000"), LINKS, "line 3, column 'utc_offset'"),
        (PLACES.replace(",0.6\n", ",1.6\n"), LINKS, "line 2, column 'legitimacy'"),
        (
            PLACES.replace("legitimacy", "legitimacyy"),
            LINKS,
            "column 'legitimacyy': unknown column",
        ),
        (
            PLACES.replace("legitimacy", "max_jail_term"),
            LINKS,
            "column 'max_jail_term': max_jail_term is one value for the whole country",
        ),
        (PLACES.replace("legitimacy", "world.width"), LINKS, "follows from its population"),
        (PLACES.replace("Atyrau,Atyrau,", "Atyrau,,"), LINKS, "line 4, column 'region'"),
        (PLACES.replace(",5,300000,", ",5,300000"), LINKS, "line 4: 6 cells for 7 columns"),
        (PLACES.replace(",region", ""), LINKS, "line 2"),
        (PLACES, LINKS.replace("Aktau,Atyrau", "Aktau,Astana"), "links.csv: line 3, column 'to'"),
        (PLACES, LINKS.replace("road", "boat"), "line 2, column 'mode': expected one of road"),
        (PLACES, LINKS.replace(",150,", ",-150,"), "line 2, column 'distance_km': must be > 0"),
        (PLACES, LINKS.replace(",2.5", ",0"), "line 2, column 'travel_hours'"),
        (PLACES, LINKS.replace("Zhanaozen,Aktau", "Aktau,Aktau"), "both are 'Aktau'"),
        (PLACES, LINKS.replace("travel_hours", "hours"), "column 'hours': unknown column"),
        ("", LINKS, "places.csv: empty file"),
    ],
)
def test_a_bad_row_names_the_file_line_and_column(tmp_path, places, links, expected):
    assert expected in error_of(tmp_path, places=places, links=links)


def test_a_place_whose_values_do_not_fit_is_named(tmp_path):
    # a place's own cop density that leaves no room: the place and the key are named
    bad = PLACES.replace("legitimacy", "cop_density").replace(",0.6\n", ",0.5\n")
    assert (
        "place 'Zhanaozen', column 'population.citizen_density': citizen_density + cop_density"
        in error_of(tmp_path, places=bad)
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('tick = 3\nset = { legitimacy = 0.5 }\nplace = "Astana"', "timeline[1].place: no place"),
        ('tick = 3\nset = { legitimacy = 0.5 }\nregion = "Mangistau"', "no region 'Mangistau'"),
        (
            'tick = 3\nset = { max_jail_term = 5 }\nplace = "Aktau"',
            "max_jail_term is one value for the whole country",
        ),
        (
            'tick = 3\nset = { legitimacy = 0.5 }\nplace = "Aktau"\nregion = "Atyrau"',
            "give 'place' or 'region', not both",
        ),
        (
            'tick = 3\naction = "shock"\nfactor = 1.2\nplace = ""',
            "timeline[1].place: expected a name",
        ),
        (
            'tick = 3\naction = "reinforce"\nunit = "u"\ncount = 5\n'
            'area = [0, 0, 60, 60]\nplace = "Zhanaozen"',
            "in Zhanaozen: [0, 0, 60, 60] is not inside the 47×47 lattice",
        ),
    ],
)
def test_a_bad_target_is_named(tmp_path, entry, expected):
    extra = "[information]\nenabled = true\n[[timeline]]\n" + entry
    assert expected in error_of(tmp_path, extra=extra)


def test_a_target_needs_a_country(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text('[[timeline]]\ntick = 3\nset = { legitimacy = 0.5 }\nplace = "Aktau"\n')
    with pytest.raises(ScenarioError, match="a target needs a"):
        upheaval.load(path)


def test_country_table_mistakes(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[country]\nplaces = "nowhere.csv"\n', "utf-8")
    with pytest.raises(ScenarioError, match=r"country\.places: no such file"):
        upheaval.load(path)
    path.write_text('[country]\nlinks = "links.csv"\n', "utf-8")
    with pytest.raises(ScenarioError, match=r"country\.places: missing"):
        upheaval.load(path)
    path.write_text("[country]\nplaces = 3\n", "utf-8")
    with pytest.raises(ScenarioError, match="expected a CSV file name or a list of tables"):
        upheaval.load(path)
    path.write_text('[country]\nplace = "p.csv"\n', "utf-8")
    with pytest.raises(ScenarioError, match=r"country\.place: unknown key"):
        upheaval.load(path)


def test_read_country_from_python(tmp_path):
    write(tmp_path)
    c = read_country(tmp_path / "places.csv", tmp_path / "links.csv")
    d = c.distances()
    assert d[0][2] == 750.0 and d[2][0] == 750.0 and d[1][1] == 0.0


def test_the_worked_example_runs_as_the_docs_say(tmp_path):
    out = tmp_path / "run"
    shown = run_and_show(EXAMPLE, out)
    doc = (ROOT / "docs" / "places.md").read_text("utf-8")
    rows = [line for line in shown.splitlines() if line.startswith(("place ", "Zh", "Ak", "At"))]
    assert len(rows) == 4
    for line in rows:
        assert line in doc, f"docs/places.md does not show: {line}"
    summaries = {s.place: s for s in place_summaries(upheaval.results.read_run(out)[1])}
    assert summaries["Zhanaozen"].onset_tick == 1
    assert summaries["Atyrau"].onset_tick is not None


CLOCKED = "[run]\nstart = 2022-01-02T00:00:00Z\ntick_minutes = 60\n"


def test_local_clock_times_use_the_place_offset(tmp_path):
    # Zhanaozen and Aktau are UTC+5: 10:00 local on 2 Jan is 05:00 UTC, tick 6
    entry = (
        '[[timeline]]\ntime = 2022-01-02T10:00:00\nclock = "local"\n'
        'set = { legitimacy = 0.5 }\nplace = "Zhanaozen"\n'
        '[[timeline]]\ntime = 2022-01-02T10:00:00\nclock = "local"\n'
        'action = "shock"\nfactor = 1.1\nregion = "Mangystau"\n'
        '[[timeline]]\ntime = 2022-01-02T10:00:00Z\nset = { legitimacy = 0.6 }\nplace = "Aktau"\n'
    )
    sc = upheaval.load(write(tmp_path, extra=CLOCKED + entry))
    ticks = [e.tick for e in sc.timeline]
    assert ticks == [6, 6, 11]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('clock = "local"\nset = { legitimacy = 0.5 }', "local time needs the entry's place"),
        ('clock = "moscow"\nset = { legitimacy = 0.5 }', "expected 'utc' or 'local'"),
        (
            'clock = "local"\nset = { legitimacy = 0.5 }\nregion = "Mixed"',
            "keep 2 different clocks",
        ),
    ],
)
def test_local_clock_mistakes(tmp_path, entry, expected):
    places = PLACES.replace("Atyrau,Atyrau,47.11,51.92,5", "Atyrau,Mixed,47.11,51.92,6").replace(
        "Aktau,Mangystau", "Aktau,Mixed"
    )
    extra = CLOCKED + "[[timeline]]\ntime = 2022-01-02T10:00:00\n" + entry
    assert expected in error_of(tmp_path, places=places, extra=extra)

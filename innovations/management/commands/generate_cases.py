"""Create realistic synthetic cases for load tests, or remove them with --purge.

Every synthetic case is marked `is_synthetic` (and says so on its page); its slug is
`synthetic-<seed>-<n>`. The same seed always gives the same cases. Rows are loaded
with COPY.
"""

import collections
import datetime
import itertools
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, connections, transaction

from innovations.models import TERM_FIELDS, Country, Innovation, SearchDocument, Sector

# Common words first: they are drawn with Zipf-like weights, as in real text, so that
# most words are rare and a search finds a realistic share of the catalogue.
WORDS = (
    "public service citizens data digital government city local national community "
    "platform programme policy health education support access information users "
    "system design network open project public-sector management services innovation "
    "budget training portal process reform agency council municipality region teams "
    "staff development evidence evaluation quality results impact participation "
    "engagement transparency accountability procurement infrastructure transport "
    "energy climate water housing welfare employment skills learning schools "
    "students families children youth elderly care hospitals patients prevention "
    "safety justice courts police prisons migration integration inclusion equality "
    "diversity disability gender poverty rural urban mobility tourism culture "
    "libraries museums heritage sport environment waste recycling emissions "
    "resilience emergency disaster risk security privacy identity records registry "
    "licensing permits taxes revenue spending finance audit statistics analytics "
    "dashboards indicators monitoring forecasting modelling simulation prototype "
    "experiment pilot trial sandbox laboratory challenge competition award "
    "partnership collaboration co-creation consultation feedback survey interviews "
    "workshops hackathon volunteers nonprofits startups universities researchers "
    "scientists entrepreneurs companies suppliers contracts tenders markets "
    "competition regulation legislation standards guidelines framework strategy "
    "roadmap vision mission leadership culture change capacity capability "
    "competencies coaching mentoring recruitment retention workforce wellbeing "
    "productivity efficiency automation artificial intelligence machine learning "
    "chatbot algorithms cloud interoperability api blockchain sensors satellite "
    "geospatial maps mobile app website accessibility usability behavioural nudges "
    "insights storytelling communication outreach campaign awareness literacy trust "
    "legitimacy ethics fairness openness cidadania inovação serviços públicos "
    "participação saúde educação transparência administração município dados abertos "
    "comunidade sustentabilidade governo cidadãos território agricultura floresta "
    "oceano pesca biodiversidade "
    "abandoned ability absence academic acceleration acceptance accident  "
    "accommodation account accreditation accuracy achievement acquisition acreage  "
    "activism actuarial adaptation addiction adjustment adolescents adoption  "
    "adulthood advocacy aerospace affordability aftercare agenda aggregation agility  "
    "agreement agronomy airport alarm alcohol allocation allotment allowance alumni  "
    "ambulance amendment amnesty analysis anchor animal announcement annuity anomaly  "
    "antenna anticipation apartment apprenticeship aquaculture arbitration archive  "
    "arena armed arrears arrival artisan assembly assessment asset assistance asylum  "
    "athlete atlas attendance attorney auction audience authority autism avalanche  "
    "aviation ballot bandwidth banking baseline basin battery beacon beekeeping  "
    "benchmark beneficiary benefit bicycle bilingual billing biomass birth blindness  "
    "bond booking border borough botany boundary breakfast breastfeeding bridge  "
    "broadband brokerage brownfield building bulletin bureau burial bursary business  "
    "cabinet cadastre calendar calibration canal cancer canteen capital carbon  "
    "cardiology cargo caregiver carpool cartography caseload cashless catalogue  "
    "catchment cathedral cattle cemetery census certificate certification chamber  "
    "charity charter checkpoint chemistry childcare chronic circular citizenship  "
    "civic claims classroom clearance clinic coalition coastal cohesion cohort  "
    "commerce commission commons commute compensation complaint compliance  "
    "composting concession conflict congestion connectivity conservation  "
    "constituency construction consumer contamination continuity cooperative  "
    "coordination copyright corridor corruption counselling countryside courthouse  "
    "covenant craft credential cremation crime crisis crop crossing curriculum  "
    "custody customs cybersecurity cycling dairy dam debt decentralisation  "
    "decommissioning deforestation delegation delivery dementia democracy demography  "
    "dentistry deployment deposit deprivation desalination detention deterrence  "
    "diabetes diagnosis dialogue diaspora diet dignity diploma disability discharge  "
    "discrimination disease dispatch displacement dispute district diversion  "
    "dividend dockyard doctorate domestic donation donor drainage drought dwelling  "
    "earthquake ecology economy ecosystem elderly election electrification embassy  "
    "emergency employability enforcement enrolment enterprise entitlement epidemic  "
    "equity erosion estate estuary eviction examination excise exclusion exhibition  "
    "expenditure export extradition factory fairground famine farmland fatigue  "
    "federation fee ferry fertility festival fieldwork filing fingerprint  "
    "firefighting fishery flood fluency folklore footpath forensic forestry  "
    "fostering franchise fraud freight fuel funeral furniture gallery garden gas  "
    "genealogy genomics geology geothermal glacier goods governance graduate grant  "
    "grassland graveyard greenhouse grid grocery guardianship habitat harbour  "
    "harvest hazard headquarters healthcare hearing heatwave hedgerow helpline  "
    "herbarium highway hiking homelessness homework horticulture hospice hostel  "
    "household humanitarian hunger hydrology hydropower hygiene immigration  "
    "immunisation import incarceration incentive income incubator indigenous  "
    "industry infection inflation informal inheritance injury inland inmate  "
    "inspection insurance intellectual interpreter intervention inventory investment  "
    "invoice irrigation island jobseeker journalism judiciary junction jury juvenile  "
    "kindergarten kinship kiosk labour lagoon landfill landlord landscape language  "
    "lease lending levy liability librarian licence lifelong lighting lighthouse  "
    "livestock loan lobbying logistics loneliness maintenance malnutrition  "
    "manufacturing marina maritime marriage maternity meadow mediation medication  "
    "memorial mental meteorology metro microfinance midwifery milestone military  "
    "mineral minority mobility monument mortgage motorway mountain multilingual  "
    "municipal murals nationality navigation neighbourhood newborn newsletter noise  "
    "notary nursery nursing nutrition obesity occupancy offender oncology orchard  "
    "orphanage outbreak overtime ownership paediatrics pandemic paperwork paramedic  "
    "parish parking parliament parole passport pasture patent pathway payroll  "
    "pedestrian penalty pension permafrost petition pharmacy philanthropy  "
    "physiotherapy pipeline planning playground plumbing poison pollination  "
    "pollution population port postal poultry precinct pregnancy premises  "
    "prescription preservation primary probation prosecution protest province  "
    "psychiatry psychology puberty publishing quarantine quarry railway rainfall  "
    "ranger recession reconciliation recreation referendum refinery refugee  "
    "rehabilitation reinsurance relocation remittance renewable rental repair  "
    "reservoir residency restoration retirement retrofit revenue rezoning rights  "
    "riverbank roadworks roof rural salary sanitation scholarship scrutiny seafront  "
    "secondary sentencing settlement sewage shelter shipping shoreline sickness  "
    "signage smoking snowfall solar solvency stadium statute stewardship stormwater  "
    "subsidy suburb succession suicide supermarket surgery surveillance tariff  "
    "taxation telecom telehealth tenancy terminal textbook theatre therapy tobacco  "
    "toll tourism township toxicology trademark traffic tram translation trauma  "
    "treasury treaty tribunal tuition tunnel turbine unemployment uniform upskilling  "
    "utility vaccination valley vandalism vehicle vendor veteran veterinary victim  "
    "village vineyard visa vocational voter wage warehouse wastewater watershed  "
    "weather wetland wheelchair whistleblower widowhood wildfire wildlife windfarm  "
    "winter woodland workplace zoning zoo"
).split()
NOUNS = (
    "Portal Lab Platform Network Programme Service Hub Observatory Registry "
    "Toolkit Academy Dashboard Assistant Card Map Fund Initiative Council "
    "Challenge Studio"
).split()
ADJECTIVES = (
    "Open Digital Smart Citizen Green Inclusive Shared Mobile Local National Civic "
    "Participatory Transparent Rapid Connected Resilient Safe Community Public"
).split()
THEMES = (
    "Health Budgets Schools Procurement Housing Mobility Justice Water Energy Jobs "
    "Culture Data Elections Permits Taxes Waste Libraries Care Skills Tourism"
).split()
LATEST_YEAR = 2026  # fixed, so that a seed gives the same cases in any year
SOURCE = "Synthetic data generated by generate_cases (not a real case)"
# Cases stored in one transaction: few enough to hold in memory, enough that each
# transaction's fixed cost is small.
PART = 20_000


class Skewed:
    """Draws from `items` weighted by rank, as Zipf's law has it for words: the item of
    rank r with weight 1 / r ** exponent, so the first far more often than the last."""

    def __init__(self, items, exponent):
        self.items = list(items)
        self.cumulative = list(
            itertools.accumulate(1 / rank**exponent for rank in range(1, len(self.items) + 1))
        )

    def draw(self, rng, k):
        return rng.choices(self.items, cum_weights=self.cumulative, k=k)

    def one(self, rng):
        return self.draw(rng, 1)[0]


def sentences(rng, number):
    """A pool of `number` sentences of 8 to 18 words, drawn as in real text."""
    words = Skewed(WORDS, 1.0)
    return [" ".join(words.draw(rng, rng.randint(8, 18))).capitalize() + "." for _ in range(number)]


def paragraph(rng, pool, low, high):
    return " ".join(rng.choices(pool, k=rng.randint(low, high)))


def near(coordinate, rng, bound):
    """A coordinate about a degree away from `coordinate`, kept within ±bound."""
    return max(-bound, min(bound, coordinate + rng.gauss(0, 1.0)))


def sample(rng, items, low, high):
    return rng.sample(items, rng.randint(low, min(high, len(items))))


def copy_rows(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(columns, cases):
    """Store (row, links) cases, in one transaction.

    The links go in before the cases (foreign keys are checked at commit), so that the
    database builds each case's search vector once, as the case arrives with its terms
    already in place (migration 0010).
    """
    cases = list(cases)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for name in TERM_FIELDS:
                field = Innovation._meta.get_field(name)
                copy_rows(
                    cursor,
                    field.remote_field.through._meta.db_table,
                    [field.m2m_column_name(), field.m2m_reverse_name()],
                    ((row[0], term) for row, links in cases for term in links[name]),
                )
            copy_rows(cursor, Innovation._meta.db_table, columns, (row for row, _ in cases))
    finally:
        connections.close_all()


def store(columns, parts):
    """Load the parts, one database connection per core (building search vectors is
    most of the work), while the next parts are generated. A few parts wait at most,
    so the command's memory stays the same however many cases it makes."""
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        waiting = collections.deque()
        for part in parts:
            waiting.append(pool.submit(load, columns, part))
            if len(waiting) > workers:
                waiting.popleft().result()
        for loaded in waiting:
            loaded.result()


class Command(BaseCommand):
    help = "Create synthetic cases (seeded, marked as synthetic) or --purge them."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--purge", action="store_true", help="remove every synthetic case")

    def handle(self, *, count, seed, purge, **options):
        if purge:
            deleted = (
                Innovation.objects.filter(is_synthetic=True)
                .delete()[1]
                .get(Innovation._meta.label, 0)
            )
            self.stdout.write(f"Removed {deleted} synthetic cases.")
            return
        if count < 1:
            raise CommandError("--count must be at least 1.")
        prefix = f"synthetic-{seed}-"
        if Innovation.objects.filter(slug__startswith=prefix).exists():
            raise CommandError(f"Cases for seed {seed} exist already; run --purge first.")
        countries = list(Country.objects.order_by("code"))
        if not countries or not Sector.objects.exists():
            raise CommandError("Load the countries and vocabularies first (make run does).")
        started = time.monotonic()
        columns = [field.column for field in Innovation._meta.concrete_fields]
        cases = self.generate(random.Random(seed), prefix, count, countries)
        try:
            store(columns, itertools.batched(cases, PART))
        except DatabaseError as error:
            raise CommandError(f"{error}\nSome parts may be stored: run --purge.") from error
        with connection.cursor() as cursor:
            for model in (Innovation, SearchDocument):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        self.stdout.write(f"Created {count} synthetic cases in {time.monotonic() - started:.1f} s.")

    def generate(self, rng, prefix, count, countries):
        """Yield `count` cases as (row, links): the row's values in the order of the
        cases' concrete fields, and the terms' primary keys of each many-to-many field."""
        rng.shuffle(countries)  # which countries are common depends on the seed
        terms = {
            name: list(
                Innovation._meta.get_field(name)
                .related_model.objects.order_by("pk")
                .values_list("pk", flat=True)
            )
            for name in TERM_FIELDS
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Innovation._meta.db_table, count],
            )
            ids = [row[0] for row in cursor.fetchall()]
        start = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC)
        pool = sentences(rng, 20_000)
        skewed = {
            "country": Skewed(countries, 1.1),
            "organisation_type": Skewed(Innovation.OrganisationType.values, 1.5),
            "level": Skewed(Innovation.Level.values, 0.8),
            "tags": Skewed(terms["tags"], 0.7),
        }
        fields = Innovation._meta.concrete_fields
        for number, pk in enumerate(ids):
            country = skewed["country"].one(rng)
            located = rng.random() < 0.6
            created = start + datetime.timedelta(minutes=rng.randint(0, 6_000_000))
            title = f"{rng.choice(ADJECTIVES)} {rng.choice(THEMES)} {rng.choice(NOUNS)}"
            values = {
                "id": pk,
                "slug": f"{prefix}{number}",
                "title": f"{title} {number}",
                "short_explanation": paragraph(rng, pool, 2, 3)[:500],
                "overview": paragraph(rng, pool, 1, 3),
                "results": paragraph(rng, pool, 1, 2) if rng.random() < 0.4 else "",
                "lessons": paragraph(rng, pool, 1, 1) if rng.random() < 0.3 else "",
                "organisation_name": f"{country.name} {rng.choice(NOUNS)} Office",
                "organisation_type": skewed["organisation_type"].one(rng),
                "country_id": country.code,
                "level": skewed["level"].one(rng),
                "year": (
                    None if rng.random() < 0.15 else LATEST_YEAR - int(rng.expovariate(1 / 6)) % 60
                ),
                "latitude": near(country.latitude, rng, 90) if located else None,
                "longitude": near(country.longitude, rng, 180) if located else None,
                "source": SOURCE,
                "is_synthetic": True,
                "status": Innovation.Status.PUBLISHED,
                "created": created,
                "updated": created,
            }
            links = {
                "sectors": sample(rng, terms["sectors"], 1, 3),
                "stages": sample(rng, terms["stages"], 1, 2),
                "recognitions": [rng.choice(terms["recognitions"])] if rng.random() < 0.1 else [],
                "tags": sorted(set(skewed["tags"].draw(rng, rng.randint(0, 5)))),
            }
            yield [values.get(f.attname, f.get_default()) for f in fields], links

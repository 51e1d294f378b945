"""Portuguese at /pt/: the same pages with every word of the interface in Portuguese.

The vocabularies (countries, sectors, stages, recognitions, tags) are data and keep
the names stored in the database in both languages.
"""

import ast
import gettext
import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache

from innovations.models import Innovation
from tests.test_submit import case_data

LOCALE = Path(settings.BASE_DIR) / "locale" / "pt" / "LC_MESSAGES"


def visible(response):
    """The page's text as a person reads it: no markup, scripts or runs of spaces."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def language_links(response):
    """The header's language links: {language code: address}."""
    nav = re.search(r'<nav class="language".*?</nav>', response.content.decode(), re.S).group()
    return {
        code: html.unescape(href)
        for href, code in re.findall(r'<a href="([^"]*)" lang="([^"]+)"', nav)
    }


@pytest.fixture
def catalogue(make_innovation):
    return [
        make_innovation(
            slug="lisbon",
            title="Lisbon portal",
            country="PT",
            level="local",
            year=2021,
            sectors=["health"],
            stages=["implementation"],
            tags=["open-data"],
            overview="A portal on public spending.",
            organisation_name="Lisbon City Council",
            organisation_type="government",
        ),
        make_innovation(slug="madrid", title="Madrid lab", country="ES", level="national"),
    ]


# The list


def test_the_portuguese_list_speaks_portuguese(client, catalogue):
    response = client.get("/pt/innovations/")
    page = response.content.decode()
    text = visible(response)
    assert response.status_code == 200
    assert '<html lang="pt">' in page
    assert "<title>2 inovações · Catálogo de Inovações</title>" in page
    assert re.search(r'<h2 id="result-count">\s*2 inovações\s*</h2>', page)
    for words in [
        "Pesquisa",
        "País",
        "Nível de governo",
        "Setor",
        "Ano de lançamento",
        "Fase da inovação",
        "Reconhecimento",
        "Etiqueta",
        "Aplicar filtros",
        "Ordenar por Lançamento mais recente Adicionadas recentemente Título A–Z",
        "Nacional/federal",
        "Portugal · Local · Lançada em 2021",
        "Spain · Nacional/federal",
        "Ver como: Lista Mapa",
        "Submeter uma inovação",
    ]:
        assert words in text, words
    for english in ["Level of government", "Apply filters", "Sort by", "Launched 2021"]:
        assert english not in text, english


def test_the_year_range_reads_from_and_until(client, catalogue):
    text = visible(client.get("/pt/innovations/"))
    assert "Ano de lançamento De Qualquer 2021 (1) Até Qualquer 2021 (1)" in text


def test_chosen_filters_and_clear_all_are_in_portuguese(client, catalogue):
    response = client.get("/pt/innovations/?country=ES&level=national&year_from=2000")
    page = response.content.decode()
    assert re.search(r'<h2 id="result-count">\s*0 inovações\s*</h2>', page)
    assert 'aria-label="Remover filtro País: Spain"' in page
    text = visible(response)
    assert "Nível de governo: Nacional/federal" in text
    assert "Lançamento desde: 2000" in text
    assert "Limpar tudo" in text
    assert "Nenhuma inovação corresponde a estes filtros. Remova um filtro ou limpe todos." in text


def test_one_innovation_is_singular(client, catalogue):
    page = client.get("/pt/innovations/?country=PT").content.decode()
    assert re.search(r'<h2 id="result-count">\s*1 inovação\s*</h2>', page)


def test_vocabulary_names_stay_as_stored(client, catalogue):
    text = visible(client.get("/pt/innovations/"))
    assert "Spain" in text
    assert "Health" in text


def test_a_bad_filter_value_is_reported_in_portuguese(client, catalogue):
    text = visible(client.get("/pt/innovations/?country=zz&year_from=soon&page=abc"))
    assert "País: “ZZ” não é um valor conhecido e foi ignorado." in text
    assert "Lançamento desde: o valor indicado não foi compreendido e foi ignorado." in text
    assert "“abc” não é um número de página; a mostrar a primeira página." in text


def test_the_portuguese_json_gives_portuguese_notices_and_level_labels(client, catalogue):
    data = client.get("/pt/innovations/?country=zz&format=json").json()
    assert data["notices"] == ["País: “ZZ” não é um valor conhecido e foi ignorado."]
    assert [option["label"] for option in data["facets"]["level"]] == [
        "Nacional/federal",
        "Regional/estadual",
        "Local",
        "Outro",
    ]


def test_the_english_list_is_unchanged(client, catalogue):
    response = client.get("/innovations/?country=ES")
    page = response.content.decode()
    text = visible(response)
    assert '<html lang="en">' in page
    assert re.search(r'<h2 id="result-count">\s*1 innovation\s*</h2>', page)
    for words in ["Level of government", "National/federal", "Apply filters", "Clear all"]:
        assert words in text, words
    assert "inovaç" not in text


def test_each_language_keeps_its_level_labels_whichever_loaded_the_catalogue(client, catalogue):
    """The in-memory catalogue is shared by every request, in both languages."""
    client.get("/pt/innovations/")
    english = client.get("/innovations/?format=json").json()["facets"]["level"]
    portuguese = client.get("/pt/innovations/?format=json").json()["facets"]["level"]
    assert english[0]["label"] == "National/federal"
    assert portuguese[0]["label"] == "Nacional/federal"
    assert "Nível de governo: Local" in visible(client.get("/pt/innovations/?level=local"))
    assert "Level of government: Local" in visible(client.get("/innovations/?level=local"))


# The language links


@pytest.mark.parametrize(
    ("english", "portuguese"),
    [
        (
            "/innovations/?country=PT&level=local&sort=title",
            "/pt/innovations/?country=PT&level=local&sort=title",
        ),
        ("/innovations/lisbon/", "/pt/innovations/lisbon/"),
        ("/innovations/map/?tag=open-data&zoom=5", "/pt/innovations/map/?tag=open-data&zoom=5"),
        ("/innovations/submit/", "/pt/innovations/submit/"),
    ],
)
def test_the_language_links_go_to_the_same_page_in_the_other_language(
    client, catalogue, english, portuguese
):
    both = {"en": english, "pt": portuguese}
    assert language_links(client.get(english)) == both
    assert language_links(client.get(portuguese)) == both


def test_each_language_is_named_in_itself_and_the_current_one_is_marked(client, catalogue):
    page = client.get("/pt/innovations/").content.decode()
    assert 'hreflang="en">English</a>' in page
    assert 'hreflang="pt" aria-current="true">Português</a>' in page


# The case page


def test_the_portuguese_case_page_speaks_portuguese(client, catalogue):
    response = client.get("/pt/innovations/lisbon/")
    page = response.content.decode()
    text = visible(response)
    assert '<html lang="pt">' in page
    for words in [
        "Todas as inovações",
        "Visão geral A portal on public spending.",
        "Sobre este caso",
        "País Portugal",
        "Nível de governo Local",
        "Setores Health",
        "Fases da inovação Implementation",
        "Ano de lançamento 2021",
        "Etiquetas Open data",
        "Organização Lisbon City Council (Governo)",
        "Localização",
        "Assinalado na capital do país, Lisbon (Portugal): o caso não indica um local próprio.",
        "Ver as inovações do país no mapa",
    ]:
        assert words in text, words
    assert re.search(r"Última atualização \d{1,2} de [A-ZÇ][a-zç]+ de \d{4}", text)
    # The facts link to the Portuguese list.
    assert 'href="/pt/innovations/?country=PT"' in page
    assert 'href="/pt/innovations/?level=local"' in page


def test_the_case_page_writes_numbers_the_portuguese_way(client, make_innovation):
    make_innovation(slug="porto", country="PT", latitude=41.1579, longitude=-8.6291)
    page = client.get("/pt/innovations/porto/").content.decode()
    assert "Na latitude 41,1579 e longitude -8,6291." in page
    assert 'data-lat="41.1579" data-lng="-8.6291"' in page  # for the map script


# The map


def test_the_portuguese_map_page_and_its_script_catalogue(client, catalogue):
    response = client.get("/pt/innovations/map/")
    text = visible(response)
    for words in ["Inovações por país", "Mapa", "País Inovações", "Total 2"]:
        assert words in text, words
    assert '<script src="/pt/jsi18n/">' in response.content.decode()
    script = client.get("/pt/jsi18n/").content.decode()
    assert "inova\\u00e7\\u00f5es no mapa." in script or "inovações no mapa." in script


def test_the_map_popup_is_in_portuguese(client, catalogue):
    text = visible(client.get("/pt/innovations/lisbon/popup/"))
    assert "Portugal · Lançada em 2021" in text
    assert "Ler o caso" in text


# Submitting


@pytest.fixture
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def test_the_portuguese_submit_form_speaks_portuguese(client, seed):
    response = client.get("/pt/innovations/submit/")
    page = response.content.decode()
    text = visible(response)
    for words in [
        "Submeter uma inovação",
        "Os campos marcados com (obrigatório) têm de ser preenchidos.",
        "A inovação",
        "Título (obrigatório) O nome pelo qual a inovação é conhecida.",
        "0 / 500 carateres",
        "O caso",
        "Onde e o quê",
        "Escolha um país",
        "Nível de governo (obrigatório)",
        "Nacional/federal",
        "Tipo de organização Escolha um tipo de organização Governo",
        "Sobre si",
        "O seu endereço de e-mail (obrigatório)",
        "Enviar para revisão",
    ]:
        assert words in text, words
    assert 'data-format="{number} / {limit} carateres"' in page


def test_errors_on_the_portuguese_form_are_in_portuguese(client, seed, fresh_rate_limit):
    response = client.post("/pt/innovations/submit/", case_data(title="", may_share=""))
    text = visible(response)
    assert "Há um problema" in text
    assert "Título: Este campo é obrigatório." in text  # Django's own Portuguese
    assert "Confirme que pode partilhar este conteúdo." in text
    assert Innovation.objects.count() == 0


def test_a_portuguese_submission_is_thanked_and_emailed_in_portuguese(
    client, seed, fresh_rate_limit, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/pt/innovations/submit/", case_data(), follow=True)
    assert response.redirect_chain == [("/pt/innovations/submit/thanks/", 302)]
    assert "Obrigado: recebemos o seu caso" in visible(response)
    [received] = mail.outbox
    assert received.subject == "Recebemos o seu caso “Open budget for Porto”"
    assert received.body.startswith("Olá, Ana Submitter,")

    # The editors work in English: their log says so, and the submitter still hears
    # back in Portuguese.
    case = Innovation.objects.get()
    assert case.status_changes.get().note == "Sent through the public form."
    with django_capture_on_commit_callbacks(execute=True):
        case.transition("published", by=editor)
    published = mail.outbox[-1]
    assert published.subject == "O seu caso “Open budget for Porto” foi publicado"
    assert f"{settings.SITE_URL}/pt/innovations/{case.slug}/" in published.body


# The catalogue files


def po_entries(path):
    """The (flags, fields) of each message in a .po file; fields hold msgid, msgstr…"""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        flags, fields, key = "", {}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
            elif not line.startswith("#"):
                key, _, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if fields.get("msgid"):
            entries.append((flags, fields))
    return entries


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated_and_compiled(domain):
    """The compiled .mo is committed (a machine without gettext serves it as it is),
    so it must hold exactly what the .po says."""
    entries = po_entries(LOCALE / f"{domain}.po")
    with open(LOCALE / f"{domain}.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    assert entries
    for flags, fields in entries:
        assert "fuzzy" not in flags, fields["msgid"]
        msgid = fields["msgid"]
        if "msgctxt" in fields:
            msgid = f"{fields['msgctxt']}\x04{msgid}"
        if "msgid_plural" in fields:
            for number in (0, 1):
                assert fields[f"msgstr[{number}]"], msgid
                assert compiled[(msgid, number)] == fields[f"msgstr[{number}]"], msgid
        else:
            assert fields["msgstr"], msgid
            assert compiled[msgid] == fields["msgstr"], msgid
    assert len(compiled) == 1 + sum(
        2 if "msgid_plural" in fields else 1 for _flags, fields in entries
    )

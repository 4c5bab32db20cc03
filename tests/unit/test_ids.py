from scimult_desktop.domain.ids import make_citekey, normalize_arxiv_id, normalize_doi, normalize_title


def test_doi_is_extracted_from_urls_and_prefixes_and_lowercased():
    assert normalize_doi("https://doi.org/10.1145/ABC.123") == "10.1145/abc.123"
    assert normalize_doi("doi:10.1000/xyz).") == "10.1000/xyz"
    assert normalize_doi("no doi here") is None
    assert normalize_doi(None) is None


def test_arxiv_ids_drop_version_and_prefix():
    assert normalize_arxiv_id("arXiv:2305.14232v2") == "2305.14232"
    assert normalize_arxiv_id("https://arxiv.org/abs/hep-th/9901001v1") == "hep-th/9901001"
    assert normalize_arxiv_id("10.1145/1234") is None


def test_title_normalisation_folds_case_accents_and_punctuation():
    assert normalize_title("Über  die   Dinge: A Study!") == "uber die dinge a study"
    assert normalize_title(None) == ""


def test_citekey_uses_first_author_year_and_first_significant_word():
    assert make_citekey(["Müller, Hans"], 2021, "The Art of Retrieval") == "muller2021art"
    assert make_citekey([], None, None) == "anon"

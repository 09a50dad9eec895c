from pathlib import Path

from dothi.core.i18n import load_catalogues, negotiate

LOCALE_DIR = Path(__file__).parents[2] / "src" / "dothi" / "web" / "locale"


def test_vietnamese_catalogue_translates_and_english_falls_back() -> None:
    catalogues = load_catalogues(LOCALE_DIR)
    assert catalogues["vi"].gettext("Forbidden") == "Không có quyền truy cập"
    assert catalogues["en"].gettext("Forbidden") == "Forbidden"
    assert catalogues["vi"].gettext("a message nobody translated") == "a message nobody translated"


def test_every_vietnamese_message_is_translated() -> None:
    vi = load_catalogues(LOCALE_DIR)["vi"]
    assert vi.messages, "the Vietnamese catalogue is empty"
    assert all(text.strip() for text in vi.messages.values())


def test_negotiate_accepts_known_locales_only() -> None:
    assert negotiate("en-US", "vi") == "en"
    assert negotiate("fr", "vi") == "vi"
    assert negotiate(None, "vi") == "vi"


def test_the_files_of_a_locale_are_merged(tmp_path: Path) -> None:
    folder = tmp_path / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid "Map"\nmsgstr "Bản đồ"\n')
    (folder / "reports.po").write_text('msgid "Report"\nmsgstr "Phản ánh"\n')
    vi = load_catalogues(tmp_path, ["vi"])["vi"]
    assert vi.gettext("Map") == "Bản đồ" and vi.gettext("Report") == "Phản ánh"

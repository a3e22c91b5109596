"""PDF pages without their running headers, footers and page numbers; listings marked; sections cut
where a bookmark begins (fast: plain text, and one small PDF written by fpdf2)."""

from ingest.loaders.pdf_layout import is_listing, split_at_headings, strip_running_lines


def pages_of(n):
    out = []
    for i in range(1, n + 1):
        header = f"{100 + i} gnuplot 5.4 Sampling" if i % 2 == 0 else f"Chapter 3: Sampling {100 + i}"
        body = [f"Line {n} of page {i}: {'alpha beta gamma delta'.split()[n % 4]} {i * n} {n}." for n in range(6)]
        body[2] = f"Body text of page {i} says something about samples number {i}."
        body[-1] = f"More body {i} closes page {i * 7} here."
        out.append("\n".join([header, *body, str(i)]))
    return out


def test_running_headers_and_page_numbers_are_dropped_and_body_kept():
    cleaned = strip_running_lines(pages_of(8))
    for i, page in enumerate(cleaned, start=1):
        assert "gnuplot 5.4 Sampling" not in page and "Chapter 3: Sampling" not in page
        assert f"Body text of page {i} says something" in page and f"More body {i} closes page" in page
        assert not page.rstrip().endswith(f"\n{i}")


def test_a_short_document_keeps_its_lines_but_loses_bare_page_numbers():
    pages = ["Title line\nThe rent is 1,450 euros.\n1", "Title line\nNotice is sixty days.\n2"]
    cleaned = strip_running_lines(pages)
    assert cleaned == ["Title line\nThe rent is 1,450 euros.", "Title line\nNotice is sixty days."]


def test_a_line_that_repeats_inside_the_body_is_not_an_edge_line():
    pages = [
        f"Heading {i}\nintro\nmiddle a\nThe same sentence in the middle.\nmiddle b\nend\nclose {i}" for i in range(6)
    ]
    cleaned = strip_running_lines(pages)
    assert all("The same sentence in the middle." in p for p in cleaned)


def test_a_table_of_contents_page_is_a_listing_and_prose_is_not():
    toc = "\n".join(f"{n}.{m} Section title number {m} ........ {10 * n + m}" for n in range(1, 4) for m in range(1, 5))
    assert is_listing(toc)
    prose = "\n".join(f"This is line {n} of ordinary text that explains a setting in words." for n in range(12))
    assert not is_listing(prose)


def test_text_above_a_section_that_begins_mid_page_keeps_the_previous_heading():
    page = "end of the previous section.\n5.2 Limits\nThe default limit is 8."
    pieces = split_at_headings(page, "5 Setup > 5.1 Install", [("5.2 Limits", "5 Setup > 5.2 Limits")])
    assert pieces == [
        ("end of the previous section.", "5 Setup > 5.1 Install"),
        ("5.2 Limits\nThe default limit is 8.", "5 Setup > 5.2 Limits"),
    ]
    assert split_at_headings(page, "A", []) == [(page, "A")]
    assert split_at_headings(page, "A", [("Missing title", "B")]) == [(page, "B")]


def test_a_pdf_read_by_the_loader_has_no_running_header_in_its_sections(tmp_path):
    from fpdf import FPDF

    from ingest.loaders.pdf import read_pdf

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_auto_page_break(False)
    for i in range(1, 7):
        pdf.add_page()
        pdf.cell(0, 8, f"ACME Widget Manual v2 - page {i}", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, f"Section {i}. The widget number {i} must be oiled every {i * 10} days by the operator.")
        pdf.set_y(-20)
        pdf.cell(0, 8, str(i))
    path = tmp_path / "manual.pdf"
    pdf.output(str(path))
    sections = read_pdf(path)
    text = "\n".join(s.text for s in sections)
    assert "ACME Widget Manual" not in text
    assert all(f"every {i * 10} days" in text for i in range(1, 7))
    assert [s.meta["page"] for s in sections] == [1, 2, 3, 4, 5, 6]

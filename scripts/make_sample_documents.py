"""Rebuild the sample documents in source_documents/ (fictional content, ours to redistribute).

Needs fpdf2 (not a dependency of localgpt): .venv/bin/pip install fpdf2
"""

from pathlib import Path

from docx import Document
from fpdf import FPDF

OUT = Path(__file__).resolve().parent.parent / "source_documents"

LEASE_PAGES = [
    (
        "Residential Lease Agreement",
        [
            "This Residential Lease Agreement is made on 12 January 2026 between Harbor View Apartments LLC "
            "(the Landlord) and Jordan Ellis (the Tenant) for the apartment at 41 Quay Street, Unit 5B, Portsmouth.",
            "1. Term. The lease runs for twelve months, from 1 March 2026 to 28 February 2027.",
            "2. Rent. The monthly rent is 1,850 US dollars, due on the first day of each month. Rent paid more than "
            "five days late incurs a late fee of 5 percent of the monthly rent.",
            "3. Security deposit. The Tenant pays a security deposit of 2,775 US dollars, returned within 21 days "
            "after the Tenant moves out, less the cost of any damage beyond normal wear and tear.",
        ],
    ),
    (
        "Termination and Notice",
        [
            "4. Notice period. Either party may end this lease at the end of the term by giving at least sixty (60) "
            "days' written notice to the other party. Notice sent by email to the address in Schedule A counts as written notice.",
            "5. Early termination. The Tenant may end the lease early by paying an early termination fee equal to "
            "two months' rent and giving the same sixty days' notice.",
            "6. Pets. One cat or one dog under 20 kilograms is allowed with a one-time pet fee of 300 US dollars.",
            "7. Repairs. The Landlord repairs heating, plumbing and electrical faults within 72 hours of a written report.",
        ],
    ),
]

KETTLE = [
    ("Aurora K2 Smart Kettle: User Manual", None),
    (
        "Specifications",
        [
            "The Aurora K2 holds 1.7 litres of water and draws 2200 watts.",
            "The keep-warm function holds the chosen temperature for 30 minutes, then switches off.",
        ],
    ),
    (
        "Care and Descaling",
        [
            "Descale the kettle every four weeks in hard-water areas, using 25 grams of citric acid dissolved in one litre of water.",
            "Never immerse the base in water.",
        ],
    ),
    (
        "Error Codes",
        [
            "E1: the lid is open. Close the lid and press Start again.",
            "E3: dry-boil protection. The kettle was switched on empty; let it cool for ten minutes, fill it and restart.",
            "E5: temperature sensor fault. Contact Aurora support; do not use the kettle.",
        ],
    ),
]


def make_pdf() -> None:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    for title, paragraphs in LEASE_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, title)
        pdf.ln(4)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    pdf.output(str(OUT / "lease_agreement.pdf"))


def make_docx() -> None:
    doc = Document()
    for heading, paragraphs in KETTLE:
        if paragraphs is None:
            doc.add_heading(heading, level=0)
            continue
        doc.add_heading(heading, level=1)
        for paragraph in paragraphs:
            doc.add_paragraph(paragraph)
    doc.core_properties.author = "localgpt samples"
    doc.save(str(OUT / "kettle_manual.docx"))


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    make_pdf()
    make_docx()

"""``cti contacts import FILE --list NAME --map phone=Phone,name=Name [--region CN]
[--campaign NAME]``: load a contact file from the command line.

The list is created when it does not exist (and attached to the campaign when one is
named); the import runs in a worker process (:mod:`outbound.contacts_import`), its
progress is printed as it goes, then the counts and the bad-row report (row number as
the spreadsheet shows it, and the reason). The full report stays in the database
(``outbound_import_issues``) and on the campaign page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cti.db import Database
from outbound import campaign_sql
from outbound import store as sql
from outbound.contacts_import import ImportProgress, ImportReport, import_contacts
from outbound.errors import ImportFileError, UnknownCampaign
from outbound.import_rows import ColumnMapping
from outbound.phone import is_known_region

Echo = Callable[[str], None]


def import_command(db: Database, path: Path, *, list_name: str, mapping: str, region: str = "US",
                   campaign: str | None = None, echo: Echo = print, chunk_rows: int = 5000) -> ImportReport:
    """Run the import and print progress and the bad-row report with ``echo``.

    Raises:
        ImportFileError: bad mapping, region or file (the message says what to change).
        UnknownCampaign: ``campaign`` names no campaign.
    """
    columns = ColumnMapping.parse(mapping)
    region = region.upper()
    if not is_known_region(region):
        raise ImportFileError(f"--region {region!r}: use a two-letter country code such as US, GB or CN")
    if not list_name.strip():
        raise ImportFileError("--list: give the name of the contact list to import into")
    with db.transaction() as cur:
        campaign_id = None
        if campaign is not None:
            campaign_id = campaign_sql.campaign_id_by_name(cur, campaign)
            if campaign_id is None:
                raise UnknownCampaign(f"no campaign named {campaign!r}; create it on the campaign page first")
        list_id = sql.contact_list_id(cur, list_name.strip(), create=True, default_region=region)
        assert list_id is not None
        if campaign_id is not None:
            campaign_sql.attach_list(cur, list_id, campaign_id)

    def progress(update: ImportProgress) -> None:
        echo(f"{update.status}: {update.rows_read} rows read, {update.bad} bad")

    report = import_contacts(db.url, list_id, path, columns, default_region=region, progress=progress,
                             chunk_rows=chunk_rows)
    echo(f"imported {report.imported} new contacts into list {list_name!r} from {path.name} (job {report.job_id}): "
         f"{report.rows_read} rows, {report.merged} merged into existing contacts, "
         f"{report.duplicates} duplicates in the file, {report.bad} bad")
    shown = [issue for issue in report.issues if issue.kind == "bad"]
    if shown:
        echo("bad rows (row number as in the spreadsheet, header = row 1):")
        for issue in shown:
            echo(f"  row {issue.row_number}: {issue.reason}")
        if report.bad > len(shown):
            echo(f"  ... and {report.bad - len(shown)} more (see the campaign page for the full report)")
    return report

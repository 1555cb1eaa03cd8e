"""A name search counts and pages from one scan of one narrow index.

A substring search (``applicant_name LIKE '%…%'``) can use no index to find or order its
matches: 0003's covering index let it count them cheaply, but the page then walked the
(received_at, id) index reading wide case rows until 30 matched — for a name with a few dozen
cases that is most of the table. With received_at and id in the covering index one scan yields
every match with its sort key; the list counts and pages them in memory
(``CaseListQuery.page_rows``). The item filter gets (item_id, status, received_at, id), so
"this item, completed" is counted and paged on an index range instead of case rows.
"""


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("case", "case_applicant_name_case_no_query_code"),
        migrator.add_index("case", ("applicant_name", "case_no", "query_code", "received_at", "id")),
        migrator.add_index("case", ("item_id", "status", "received_at", "id")),
    )
    db.execute_sql("ANALYZE")
